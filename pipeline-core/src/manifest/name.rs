//! Ids, node types and connection ends are read straight into shared [`Name`]s: one allocation
//! each, after which the graph, the description and the running pipeline share them instead of
//! copying (serde's own `Arc<str>` goes through a `Box<str>` and copies it once more).

use crate::graph::Name;
use serde::de::{Deserializer, Error, Visitor};
use std::fmt;

/// Deserializes a string into a [`Name`] with one allocation.
///
/// ```
/// use pipeline_core::manifest::Connection;
/// let c: Connection = serde_json::from_str(r#"{"from": "a", "to": "output"}"#).unwrap();
/// assert_eq!((&*c.from, &*c.to), ("a", "output"));
/// ```
pub(crate) fn deserialize_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Name, D::Error> {
    struct NameVisitor;
    impl Visitor<'_> for NameVisitor {
        type Value = Name;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: Error>(self, text: &str) -> Result<Name, E> {
            Ok(Name::from(text))
        }
    }
    deserializer.deserialize_str(NameVisitor)
}
