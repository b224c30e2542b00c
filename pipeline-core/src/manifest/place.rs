//! Where a graph element came from in a manifest: indices while the graph is built and checked, a
//! JSON pointer (and so a line and column) only once a problem is reported. A valid manifest never
//! formats a pointer.
//!
//! Indices are `u32`, so a place is 8 bytes: the graph's node and edge declarations, which carry
//! one or three, stay within the 128 bytes the compiler moves inline rather than through a
//! `memcpy` call (a node's was 136 bytes with `usize` indices).

/// The part of a manifest a graph node or edge came from.
///
/// ```
/// use pipeline_core::manifest::JsonPlace;
/// assert_eq!(JsonPlace::Node(2).pointer(), "/nodes/2");
/// assert_eq!(JsonPlace::ConnectionTo(0).pointer(), "/connections/0/to");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonPlace {
    /// The `nodes` array.
    Nodes,
    /// The `connections` array.
    Connections,
    /// Node `i`.
    Node(u32),
    /// Connection `c`.
    Connection(u32),
    /// The `from` of connection `c`.
    ConnectionFrom(u32),
    /// The `to` of connection `c`.
    ConnectionTo(u32),
}

impl JsonPlace {
    /// An array index as a place's: no manifest within the size limits comes near `u32::MAX`
    /// entries (each takes a few bytes of text); past it a place names the last index.
    ///
    /// ```
    /// use pipeline_core::manifest::JsonPlace;
    /// assert_eq!(JsonPlace::Node(JsonPlace::index(7)), JsonPlace::Node(7));
    /// assert_eq!(JsonPlace::index(usize::MAX), u32::MAX);
    /// ```
    pub fn index(i: usize) -> u32 {
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    /// The JSON pointer (RFC 6901) of the place.
    pub fn pointer(self) -> String {
        match self {
            JsonPlace::Nodes => "/nodes".to_string(),
            JsonPlace::Connections => "/connections".to_string(),
            JsonPlace::Node(i) => format!("/nodes/{i}"),
            JsonPlace::Connection(c) => format!("/connections/{c}"),
            JsonPlace::ConnectionFrom(c) => format!("/connections/{c}/from"),
            JsonPlace::ConnectionTo(c) => format!("/connections/{c}/to"),
        }
    }
}

#[cfg(all(test, feature = "manifest"))]
mod tests {
    use super::JsonPlace;
    use crate::dynamic::DynNode;
    use crate::graph::{EdgeDecl, NodeDecl};
    use std::mem::size_of;

    #[test]
    fn declarations_stay_small_enough_to_move_inline() {
        assert_eq!(size_of::<JsonPlace>(), 8);
        assert!(size_of::<NodeDecl<JsonPlace, Box<dyn DynNode>>>() <= 128);
        assert!(size_of::<EdgeDecl<JsonPlace>>() <= 128);
    }
}
