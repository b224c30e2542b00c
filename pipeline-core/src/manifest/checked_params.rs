//! Reading a node's `params` without serde_json's silent changes: a key repeated in one object
//! (serde_json keeps the last) and an integer above `i64::MAX` (the pipeline's values would turn it
//! into a float) are errors.
//!
//! This is what lets the parser's fast path stay fast: params go straight from the text into
//! `serde_json` values, and only a document with such a problem takes the slow path, which scans
//! the text to place it (see `manifest/scan.rs`).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// `deserialize_with` for [`NodeSpec::params`](super::model::NodeSpec::params).
pub(crate) fn deserialize_params<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Map<String, Value>, D::Error> {
    deserializer.deserialize_map(CheckedObject)
}

/// A JSON value, checked.
struct Checked(Value);

impl<'de> de::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedValue).map(Checked)
    }
}

struct CheckedObject;

impl<'de> Visitor<'de> for CheckedObject {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of params")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let Checked(value) = access.next_value()?;
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "key `{key}` appears twice in one object"
                )));
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

struct CheckedValue;

impl<'de> Visitor<'de> for CheckedValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if i64::try_from(v).is_err() {
            return Err(E::custom(format_args!(
                "integer {v} does not fit in a 64-bit signed integer"
            )));
        }
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(CheckedValue)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(access.size_hint().unwrap_or(0).min(1024));
        while let Some(Checked(item)) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Value, A::Error> {
        CheckedObject.visit_map(access).map(Value::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Result<Map<String, Value>, serde_json::Error> {
        deserialize_params(&mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn reads_params_like_serde_json() {
        let text =
            r#"{"a": [1, -2, 2.5, "s", null, true], "b": {"c": {}}, "n": 9223372036854775807}"#;
        let expected: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(params(text).unwrap(), expected);
    }

    #[test]
    fn refuses_repeated_keys_at_any_depth() {
        let err = params(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(err.to_string().contains("key `a` appears twice"), "{err}");
        assert!(params(r#"{"a": [{"k": 1, "k": 1}]}"#).is_err());
    }

    #[test]
    fn refuses_integers_above_i64() {
        let err = params(r#"{"a": 9223372036854775808}"#).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
    }
}
