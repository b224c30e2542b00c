//! Where a graph element came from in a manifest: indices while the graph is built and checked, a
//! JSON pointer (and so a line and column) only once a problem is reported. A valid manifest never
//! formats a pointer.

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
    Node(usize),
    /// Connection `c`.
    Connection(usize),
    /// The `from` of connection `c`.
    ConnectionFrom(usize),
    /// The `to` of connection `c`.
    ConnectionTo(usize),
}

impl JsonPlace {
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
