//! `Value` ⇄ JSON (and any serde format) directly, without a `serde_json::Value` in between: JSON
//! Lines input parses straight into the enum, outputs serialise straight from it.

use super::{Map, Value};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;
use std::sync::Arc;

/// Ints stay ints, floats floats; bytes become a list of numbers (JSON has no bytes).
///
/// ```
/// use pipeline_core::Value;
/// let v = Value::map([("n", Value::Int(1)), ("x", Value::Float(1.5))]);
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"n":1,"x":1.5}"#);
/// ```
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serializer.serialize_bytes(b),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => entries.serialize(serializer),
        }
    }
}

/// Integers become `Int`, numbers with a fraction or an exponent `Float`. An integer beyond
/// `i64::MAX` (up to `u64::MAX`) is an error, not a float that lost digits; serde_json hands
/// integers beyond `u64` to the visitor as floats, which [`parse_json`](super::parse_json)
/// catches in the text.
///
/// ```
/// use pipeline_core::Value;
/// let v: Value = serde_json::from_str(r#"[1, 2.5, "a", null, {"k": true}]"#).unwrap();
/// assert_eq!(v.to_string(), r#"[1, 2.5, "a", null, {"k": true}]"#);
/// ```
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| E::custom(super::json_text::out_of_range_message(&u.to_string())))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(Arc::from(s)))
    }
    fn visit_bytes<E>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(Arc::from(b)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items.into()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        MapVisitor(std::marker::PhantomData)
            .visit_map(map)
            .map(|map| Value::Map(Arc::new(map)))
    }
}

/// A map's entries in key order, as a serde map.
///
/// ```
/// use pipeline_core::value::Map;
/// let map: Map<i32> = [("b", 2), ("a", 1)].into_iter().collect();
/// assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":1,"b":2}"#);
/// ```
impl<V: Serialize> Serialize for Map<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

/// Any serde map with string keys; a repeated key keeps its last value (like serde_json's own
/// map). The pairs are gathered, then sorted once.
///
/// ```
/// use pipeline_core::value::Map;
/// let map: Map<i32> = serde_json::from_str(r#"{"b":2,"a":1,"b":3}"#).unwrap();
/// assert_eq!(format!("{map:?}"), r#"{"a": 1, "b": 3}"#);
/// ```
impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

struct MapVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
    type Value = Map<V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map with string keys")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map<V>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(k) = map.next_key_seed(Key)? {
            entries.push((k, map.next_value::<V>()?));
        }
        Ok(Map::from_unsorted(entries))
    }
}

/// A map key read straight into a shared `Arc<str>` ([`key_cache`](super::key_cache)), without
/// a `String` in between.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = Arc<str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Arc<str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E>(self, s: &str) -> Result<Arc<str>, E> {
        Ok(super::key_cache::key(s))
    }
}

/// From a parsed JSON document (manifest params).
impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => Value::list(items.iter().map(Value::from)),
            serde_json::Value::Object(map) => {
                Value::map(map.iter().map(|(k, v)| (k.as_str(), Value::from(v))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_int_and_float_apart() {
        let text = r#"{"a":[1,-2,3.0,"x",null,true],"b":{"c":1.8446744073709552e19}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            v.get("a").unwrap().to_string(),
            r#"[1, -2, 3.0, "x", null, true]"#
        );
        assert!(matches!(
            v.get("b").unwrap().get("c"),
            Some(Value::Float(_))
        ));
        let too_big = serde_json::from_str::<Value>("18446744073709551615").unwrap_err();
        assert!(
            too_big.to_string().contains("does not fit 64 bits"),
            "{too_big}"
        );
        let back = serde_json::to_string(&v).unwrap();
        assert!(
            back.starts_with(r#"{"a":[1,-2,3.0,"x",null,true]"#),
            "{back}"
        );
    }

    #[test]
    fn from_json_value_matches_direct_parse() {
        let text = r#"{"k":[1,2.5,{"z":"s"}]}"#;
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            Value::from(&json),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }
}
