//! Conversions between typed node items and [`Value`], so one typed node serves dynamic graphs too.

use super::Value;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::PortType;
use crate::node::move_all;
use std::sync::Arc;

/// A typed item that can be read from a dynamic [`Value`].
///
/// ```
/// use pipeline_core::value::FromValue;
/// use pipeline_core::Value;
/// assert_eq!(i64::from_value(Value::Int(3)).unwrap(), 3);
/// assert!(i64::from_value(Value::from("x")).is_err());
/// ```
pub trait FromValue: Sized {
    /// The port type a node with this input declares in dynamic graphs.
    const PORT: PortType = PortType::Any;
    /// Converts, or explains which type was expected.
    fn from_value(value: Value) -> Result<Self>;

    /// Converts a whole batch onto the end of `into`, leaving `values` empty; stops at the first
    /// item that does not convert. `Value` itself hands the buffer over without touching items.
    ///
    /// ```
    /// use pipeline_core::value::FromValue;
    /// use pipeline_core::Value;
    /// let (mut values, mut ints) = (vec![Value::Int(1), Value::Int(2)], Vec::new());
    /// i64::from_values(&mut values, &mut ints).unwrap();
    /// assert_eq!(ints, [1, 2]);
    /// ```
    fn from_values(values: &mut Vec<Value>, into: &mut Vec<Self>) -> Result<()> {
        into.reserve(values.len());
        for value in values.drain(..) {
            into.push(Self::from_value(value)?);
        }
        Ok(())
    }
}

/// A typed item that can become a dynamic [`Value`].
///
/// ```
/// use pipeline_core::value::IntoValue;
/// use pipeline_core::Value;
/// assert_eq!(7_i64.into_value(), Value::Int(7));
/// ```
pub trait IntoValue {
    /// The port type a node with this output declares in dynamic graphs.
    const PORT: PortType = PortType::Any;
    /// Converts.
    fn into_value(self) -> Value;

    /// Converts a whole batch onto the end of `into`, leaving `items` empty.
    ///
    /// ```
    /// use pipeline_core::value::IntoValue;
    /// use pipeline_core::Value;
    /// let mut values = Vec::new();
    /// i64::into_values(&mut vec![1, 2], &mut values);
    /// assert_eq!(values, [Value::Int(1), Value::Int(2)]);
    /// ```
    fn into_values(items: &mut Vec<Self>, into: &mut Vec<Value>)
    where
        Self: Sized,
    {
        into.extend(items.drain(..).map(IntoValue::into_value));
    }
}

fn mismatch(expected: &str, got: &Value) -> Error {
    Error::new(
        ErrorKind::Conversion,
        format_args!("expected {expected}, got {} `{got}`", got.type_name()),
    )
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self> {
        Ok(value)
    }

    fn from_values(values: &mut Vec<Value>, into: &mut Vec<Self>) -> Result<()> {
        move_all(values, into);
        Ok(())
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }

    fn into_values(items: &mut Vec<Self>, into: &mut Vec<Value>) {
        move_all(items, into);
    }
}

impl FromValue for i64 {
    const PORT: PortType = PortType::Int;
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(i),
            other => Err(mismatch("int", &other)),
        }
    }
}

impl FromValue for f64 {
    const PORT: PortType = PortType::Number;
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            other => Err(mismatch("float", &other)),
        }
    }
}

impl FromValue for bool {
    const PORT: PortType = PortType::Bool;
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(mismatch("bool", &other)),
        }
    }
}

impl FromValue for String {
    const PORT: PortType = PortType::Str;
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(mismatch("string", &other)),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    const PORT: PortType = PortType::List;
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::List(items) => items.iter().cloned().map(T::from_value).collect(),
            other => Err(mismatch("list", &other)),
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    const PORT: PortType = PortType::List;
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl IntoValue for u64 {
    const PORT: PortType = PortType::Number;
    fn into_value(self) -> Value {
        i64::try_from(self).map_or(Value::Float(self as f64), Value::Int)
    }
}

macro_rules! into_value_via_from {
    ($($t:ty => $port:ident),*) => {$(
        impl IntoValue for $t {
            const PORT: PortType = PortType::$port;
            fn into_value(self) -> Value {
                Value::from(self)
            }
        }
    )*};
}
into_value_via_from!(i64 => Int, f64 => Float, bool => Bool, String => Str, &str => Str, () => Null);

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(Arc::from(v))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(Arc::from(v))
    }
}
impl From<()> for Value {
    fn from(_: ()) -> Self {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trips() {
        assert_eq!(i64::from_value(7_i64.into_value()).unwrap(), 7);
        assert_eq!(
            String::from_value("é".into_value()).unwrap(),
            "é".to_string()
        );
        let v = vec![1_i64, 2].into_value();
        assert_eq!(Vec::<i64>::from_value(v).unwrap(), vec![1, 2]);
    }

    #[test]
    fn mismatches_name_both_types() {
        let err = i64::from_value(Value::from("x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conversion);
        assert_eq!(err.message(), "expected int, got string `\"x\"`");
    }
}
