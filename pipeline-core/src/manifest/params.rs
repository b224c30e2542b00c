//! A node's `params`: the JSON object, kept as its text in the manifest until something reads it.
//!
//! The parser's plain reader checks a node's params as it reads them (plain strings, integers
//! that fit, no repeated key) but builds no map: most nodes are built straight from that text by
//! their type's typed params (`serde_json::from_str::<P>`), and a map of `String`s and `Value`s
//! built, moved and dropped per node was ~15% of constructing the benchmark manifest (callgrind).
//! Anything that looks at the params as a map ([`Deref`]) gets them parsed then, once.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::ops::{Deref, DerefMut, Range};
use std::sync::{Arc, OnceLock};

/// A node's params: a JSON object (a [`Map`] to read and write), possibly still unparsed text.
///
/// ```
/// use pipeline_core::manifest::Params;
/// let mut params = Params::from(serde_json::json!({"operand": 1}).as_object().unwrap().clone());
/// assert_eq!(params["operand"], 1);
/// params.insert("operation".into(), "add".into());
/// assert_eq!(params.len(), 2);
/// assert!(Params::default().is_empty());
/// ```
#[derive(Default)]
pub struct Params {
    /// The object's text (its `{` to its `}`) in the manifest, when read but not parsed; parsed
    /// into `map` on first use. Only checked, plain text is kept (see `plain`).
    text: Option<(Arc<str>, Range<usize>)>,
    map: OnceLock<Map<String, Value>>,
}

impl Params {
    /// Params that are the object written at `range` of `text`: JSON the parser's plain reader
    /// checked (`serde_json` reads it to the same map the reader would have built).
    pub(crate) fn unparsed(text: Arc<str>, range: Range<usize>) -> Params {
        Params {
            text: Some((text, range)),
            map: OnceLock::new(),
        }
    }

    /// The object's text, while nothing has parsed it: what typed params can be read from
    /// directly.
    // Read by the registry (feature `runtime`); the macro builds this crate without it.
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn text(&self) -> Option<&str> {
        match (&self.text, self.map.get()) {
            (Some((text, range)), None) => text.get(range.clone()),
            _ => None,
        }
    }

    /// Whether there are none (an unparsed object is never empty: the reader keeps no text for
    /// `{}`).
    pub fn is_empty(&self) -> bool {
        match (&self.text, self.map.get()) {
            (_, Some(map)) => map.is_empty(),
            (Some(_), None) => false,
            // Never set: no params (asked of most nodes, this makes no empty map).
            (None, None) => true,
        }
    }

    /// The params as a map, parsed now if they were not.
    pub fn map(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| match &self.text {
            Some((text, range)) => text
                .get(range.clone())
                .and_then(|object| serde_json::from_str(object).ok())
                // Unreachable: the plain reader only keeps text it checked as an object.
                .unwrap_or_default(),
            None => Map::new(),
        })
    }

    /// The params as a map, taken out (an empty map left).
    pub fn take_map(&mut self) -> Map<String, Value> {
        std::mem::take(&mut **self)
    }
}

impl Deref for Params {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.map()
    }
}

impl DerefMut for Params {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        self.map();
        // Changed, the map is what the params are: the text no longer says.
        self.text = None;
        self.map.get_mut().expect("parsed just above")
    }
}

impl From<Map<String, Value>> for Params {
    fn from(map: Map<String, Value>) -> Params {
        Params {
            text: None,
            map: OnceLock::from(map),
        }
    }
}

impl Clone for Params {
    fn clone(&self) -> Params {
        match (&self.text, self.map.get()) {
            (Some((text, range)), None) => Params::unparsed(Arc::clone(text), range.clone()),
            _ => Params::from(self.map().clone()),
        }
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Params) -> bool {
        self.map() == other.map()
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.map().fmt(f)
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Params, D::Error> {
        super::checked_params::deserialize_params(deserializer).map(Params::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unparsed(object: &str) -> Params {
        let text: Arc<str> = Arc::from(format!("[{object}]"));
        Params::unparsed(text, 1..1 + object.len())
    }

    #[test]
    fn unparsed_params_read_as_the_map_serde_makes_of_them() {
        let object = r#"{"operation": "add", "operand": -3, "list": [1, 2.5, {"k": null}]}"#;
        let params = unparsed(object);
        assert_eq!(params.text(), Some(object));
        let expected: Map<String, Value> = serde_json::from_str(object).unwrap();
        assert_eq!(*params, expected);
        // Parsed once, the text is no longer offered (the map is what is read).
        assert_eq!(params.text(), None);
        assert_eq!(params["operand"], -3);
    }

    #[test]
    fn a_change_replaces_the_text_and_clones_keep_what_they_were() {
        let mut params = unparsed(r#"{"file": "a.py"}"#);
        let copy = params.clone();
        assert_eq!(copy.text(), Some(r#"{"file": "a.py"}"#));
        params.remove("file");
        params.insert("code".into(), "x = 1".into());
        assert_eq!(params.text(), None);
        assert_eq!(
            serde_json::to_string(&params).unwrap(),
            r#"{"code":"x = 1"}"#
        );
        assert_eq!(serde_json::to_string(&copy).unwrap(), r#"{"file":"a.py"}"#);
        assert_ne!(params, copy);
        let taken = params.take_map();
        assert_eq!(taken.len(), 1);
        assert!(params.is_empty());
        assert!(!copy.is_empty());
        // Asking whether there are none makes no map.
        let none = Params::default();
        assert!(none.is_empty() && none.map.get().is_none());
        assert!(none.text().is_none() && none.map().is_empty());
    }
}
