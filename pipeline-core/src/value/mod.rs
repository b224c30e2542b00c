//! The dynamic item type: what flows between nodes of manifest and Python graphs.
//!
//! A small enum that is cheap to clone (strings, bytes, lists and maps are shared behind `Arc`), so
//! fan-out in a dynamic graph copies a pointer, not a document.

mod convert;
#[cfg(feature = "manifest-model")]
mod eight_digits;
#[cfg(feature = "manifest-model")]
mod json_fast;
#[cfg(feature = "manifest-model")]
mod json_special;
#[cfg(feature = "manifest-model")]
mod json_text;
#[cfg(feature = "manifest-model")]
mod json_writer;
mod key_cache;
#[cfg(feature = "manifest-model")]
mod key_guess;
mod map;
mod map_pool;
#[cfg(feature = "manifest-model")]
mod map_shape;
#[cfg(feature = "manifest-model")]
mod serde_impl;
pub mod wire;

pub use convert::{FromValue, IntoValue};
#[cfg(feature = "manifest-model")]
pub use json_text::{
    parse_bare_int, parse_bare_int_in, parse_json, write_json, JsonTextError, NonFiniteFloat,
};
pub use map::{Iter as MapIter, IterMut as MapIterMut, Map};
pub use map_pool::{
    recycle_values, MAX_POOLED, MAX_POOLED_ENTRIES, MAX_POOLED_LIST, MAX_POOLED_STRING,
};

use std::fmt;
use std::sync::Arc;

/// A dynamically typed item.
///
/// ```
/// use pipeline_core::Value;
/// let v = Value::from(41_i64);
/// assert_eq!(v.as_int(), Some(41));
/// assert_eq!(Value::from("hi").type_name(), "string");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
// A word-sized tag keeps every payload word-aligned, so copying a value (into a batch, out of a
// node) is three word moves; the default layout packs payload bytes behind a one-byte tag and
// copies them piecewise. Still 24 bytes, and `Option<Value>` too.
#[repr(u64)]
pub enum Value {
    /// JSON `null`, Python `None`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// UTF-8 text.
    Str(Arc<str>),
    /// Raw bytes.
    Bytes(Arc<[u8]>),
    /// An ordered list.
    List(Arc<[Value]>),
    /// A map with string keys, sorted by key: one vector of entries ([`Map`]).
    Map(Arc<Map>),
}

impl Value {
    /// The name of this value's type, as used in port types and error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number as a float, if this is an int or a float.
    ///
    /// ```
    /// use pipeline_core::Value;
    /// assert_eq!(Value::Int(2).as_f64(), Some(2.0));
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up `key` if this is a map.
    ///
    /// ```
    /// use pipeline_core::Value;
    /// let v = Value::map([("a", Value::Int(1))]);
    /// assert_eq!(v.get("a"), Some(&Value::Int(1)));
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// Builds a map from key/value pairs.
    pub fn map<K: Into<Arc<str>>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(Arc::new(entries.into_iter().collect()))
    }

    /// Builds a list.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }
}

/// JSON-like text, for logs and error messages.
///
/// ```
/// use pipeline_core::Value;
/// let v = Value::map([("n", Value::list([Value::Int(1), Value::from("x")]))]);
/// assert_eq!(v.to_string(), r#"{"n": [1, "x"]}"#);
/// ```
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{:?}", &**s),
            Value::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:?}: {v}", &**k)?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_the_payload() {
        let list = Value::list((0..1000).map(Value::Int));
        let copy = list.clone();
        match (&list, &copy) {
            (Value::List(a), Value::List(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => unreachable!(),
        }
    }

    #[test]
    fn value_stays_small() {
        assert!(std::mem::size_of::<Value>() <= 24);
        // The word-sized tag must not cost `Option` its niche.
        assert_eq!(
            std::mem::size_of::<Option<Value>>(),
            std::mem::size_of::<Value>()
        );
    }
}
