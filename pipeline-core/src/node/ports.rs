//! Nodes with several named outputs ("ports"): the node's `Output` type says which port each item
//! leaves by, so the [`Node`](super::Node) trait stays the same for one output and for many.

/// The items of a node with several named outputs: each item leaves by one port.
///
/// A node with ports is an ordinary [`Node`](super::Node) whose `Output` implements `Ports`,
/// usually an enum with one variant per port; `#[derive(Ports)]` (in the `pipeline` crate) writes
/// the impl and the accessors below for such an enum. Graphs address a port by name (`route.even -> a` in
/// `pipeline!`, `"from": "route.even"` in a manifest); items of a port no edge names are dropped.
///
/// For each port `name` the type also has an inherent method `port_<name>(self) -> Result<Item,
/// Self>` (the item of that port, or the item back when it leaves by another one), which is how
/// generated code hands each port's items, typed, to that port's edges.
///
/// ```
/// use pipeline_core::node::Ports;
///
/// /// Frames of a demuxed stream.
/// enum Track { Audio(Vec<i16>), Video(Vec<u8>) }
///
/// impl Ports for Track {
///     const NAMES: &'static [&'static str] = &["audio", "video"];
///     fn port(&self) -> usize {
///         match self { Track::Audio(_) => 0, Track::Video(_) => 1 }
///     }
/// }
///
/// let frame = Track::Video(vec![1, 2]);
/// assert_eq!(Track::NAMES[frame.port()], "video");
/// ```
pub trait Ports: Sized {
    /// The port names, in declaration order: identifiers, each once.
    const NAMES: &'static [&'static str];

    /// The index into [`NAMES`](Ports::NAMES) of the port this item leaves by.
    fn port(&self) -> usize;

    /// The name of the port this item leaves by.
    ///
    /// ```
    /// use pipeline_core::prelude::*;
    /// assert_eq!(Partitioned::False(3).port_name(), "false");
    /// ```
    fn port_name(&self) -> &'static str {
        Self::NAMES[self.port()]
    }
}
