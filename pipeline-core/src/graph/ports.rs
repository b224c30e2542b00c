//! Port types: what item types a node accepts and emits, so a dynamic graph that connects
//! incompatible ports fails when it is built, not on the first item (GStreamer's caps, in small).

use std::fmt;

/// The item type a port carries. `Any` is for untyped nodes; `Number` is an int or a float.
///
/// Two ports are compatible when some value could be both emitted and accepted:
///
/// ```
/// use pipeline_core::graph::PortType;
/// assert!(PortType::Number.accepts(PortType::Int));
/// assert!(PortType::Any.accepts(PortType::List));
/// assert!(!PortType::Int.accepts(PortType::List));
/// assert_eq!("string".parse::<PortType>(), Ok(PortType::Str));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "manifest-model",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)
)]
#[cfg_attr(feature = "manifest-model", serde(rename_all = "lowercase"))]
#[cfg_attr(
    feature = "manifest-model",
    schemars(
        description = "An item type: any, null, bool, int, float, number (int or float), string, bytes, list, map."
    )
)]
pub enum PortType {
    /// Anything: untyped nodes.
    #[default]
    Any,
    /// `null`.
    Null,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A float.
    Float,
    /// An integer or a float.
    Number,
    /// Text.
    #[cfg_attr(feature = "manifest-model", serde(rename = "string"))]
    Str,
    /// Raw bytes.
    Bytes,
    /// A list.
    List,
    /// A map.
    Map,
}

impl PortType {
    /// Every port type.
    pub const ALL: [PortType; 10] = [
        PortType::Any,
        PortType::Null,
        PortType::Bool,
        PortType::Int,
        PortType::Float,
        PortType::Number,
        PortType::Str,
        PortType::Bytes,
        PortType::List,
        PortType::Map,
    ];

    /// The name used in manifests and messages.
    pub fn name(self) -> &'static str {
        match self {
            PortType::Any => "any",
            PortType::Null => "null",
            PortType::Bool => "bool",
            PortType::Int => "int",
            PortType::Float => "float",
            PortType::Number => "number",
            PortType::Str => "string",
            PortType::Bytes => "bytes",
            PortType::List => "list",
            PortType::Map => "map",
        }
    }

    /// The value kinds this type admits, one bit each.
    fn members(self) -> u8 {
        match self {
            PortType::Any => u8::MAX,
            PortType::Null => 1,
            PortType::Bool => 1 << 1,
            PortType::Int => 1 << 2,
            PortType::Float => 1 << 3,
            PortType::Number => (1 << 2) | (1 << 3),
            PortType::Str => 1 << 4,
            PortType::Bytes => 1 << 5,
            PortType::List => 1 << 6,
            PortType::Map => 1 << 7,
        }
    }

    /// Whether a port of this type can take items from a port that emits `produced`: some value
    /// must be both. Lenient on purpose (`int` accepts `number`): only a certain mismatch is an error.
    pub fn accepts(self, produced: PortType) -> bool {
        self.members() & produced.members() != 0
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PortType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PortType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown port type `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_is_set_intersection() {
        for t in PortType::ALL {
            assert!(t.accepts(t), "{t}");
            assert!(PortType::Any.accepts(t) && t.accepts(PortType::Any));
        }
        assert!(PortType::Int.accepts(PortType::Number));
        assert!(!PortType::Float.accepts(PortType::Int));
        assert!(!PortType::Map.accepts(PortType::Str));
    }
}
