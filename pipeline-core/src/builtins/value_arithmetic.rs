//! `Calculator<Value>`: the seed's `CalculatorNode` semantics on dynamic items.
//!
//! An int, a float, or a string that parses as a number is computed on; anything else passes through
//! unchanged. A whole result is an int, otherwise a float. Division by zero and int overflow are errors.

use super::calculator::{Arithmetic, Operation};
use crate::error::{Error, Result};
use crate::value::Value;

#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(value: &Value) -> Option<Number> {
        match value {
            Value::Int(i) => Some(Number::Int(*i)),
            Value::Float(f) => Some(Number::Float(*f)),
            Value::Str(s) => {
                let s = s.trim();
                s.parse::<i64>().map(Number::Int).ok().or_else(|| {
                    s.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Number::Float)
                })
            }
            _ => None,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    fn is_zero(self) -> bool {
        self.as_f64() == 0.0
    }
}

/// An int when the float is whole and fits, else the float.
fn whole_to_int(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

/// ```
/// use pipeline_core::prelude::*;
/// let mut calc = Calculator::add(Value::Int(1));
/// let mut out = Vec::new();
/// for item in [Value::Int(1), Value::from("2.5"), Value::from("x")] {
///     calc.process(item, &mut out).unwrap();
/// }
/// assert_eq!(out, [Value::Int(2), Value::Float(3.5), Value::from("x")]);
/// ```
impl Arithmetic for Value {
    fn to_value(&self) -> Option<Value> {
        Some(self.clone())
    }

    fn apply(self, op: Operation, operand: &Value) -> Result<Value> {
        let (Some(x), Some(y)) = (Number::of(&self), Number::of(operand)) else {
            return Ok(self);
        };
        if op == Operation::Divide && y.is_zero() {
            return Err(Error::msg("division by zero"));
        }
        if let (Number::Int(a), Number::Int(b), false) = (x, y, op == Operation::Divide) {
            return a.apply(op, &b).map(Value::Int);
        }
        let (a, b) = (x.as_f64(), y.as_f64());
        a.apply(op, &b).map(whole_to_int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Calculator;
    use crate::node::Node;

    fn calc(op: Operation, operand: Value, item: Value) -> Result<Value> {
        let mut out = Vec::new();
        Calculator::new(op, operand).process(item, &mut out)?;
        Ok(out.pop().unwrap())
    }

    #[test]
    fn seed_semantics() {
        use Operation::*;
        assert_eq!(
            calc(Add, Value::Int(1), Value::Int(41)).unwrap(),
            Value::Int(42)
        );
        assert_eq!(
            calc(Divide, Value::Int(2), Value::Int(7)).unwrap(),
            Value::Float(3.5)
        );
        assert_eq!(
            calc(Divide, Value::Int(2), Value::Int(8)).unwrap(),
            Value::Int(4)
        );
        assert_eq!(
            calc(Add, Value::Float(0.5), Value::Float(1.5)).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            calc(Multiply, Value::Int(2), Value::from(" 3 ")).unwrap(),
            Value::Int(6)
        );
        assert_eq!(
            calc(Subtract, Value::Int(1), Value::Null).unwrap(),
            Value::Null
        );
        assert_eq!(
            calc(Add, Value::Int(1), Value::Bool(true)).unwrap(),
            Value::Bool(true)
        );
        let err = calc(Divide, Value::Int(0), Value::Int(1)).unwrap_err();
        assert_eq!(err.message(), "division by zero");
        assert!(calc(Add, Value::Int(1), Value::Int(i64::MAX)).is_err());
    }
}
