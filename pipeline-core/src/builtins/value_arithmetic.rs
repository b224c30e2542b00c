//! `Calculator<Value>`: the seed's `CalculatorNode` semantics on dynamic items.
//!
//! An int, a float, or a string that parses as a number is computed on; anything else passes through
//! unchanged. A whole result is an int, otherwise a float. Division by zero and int overflow are errors.

use super::calculator::{apply_each, Arithmetic, Operation};
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

    #[inline]
    fn apply(self, op: Operation, operand: &Value) -> Result<Value> {
        // The common case inline: two ints, no parsing, no float path. `ManuallyDrop` because an
        // int owns nothing, and an out-of-line drop call per item costs as much as the add.
        let item = std::mem::ManuallyDrop::new(self);
        match (&*item, operand) {
            (Value::Int(a), Value::Int(b)) if op != Operation::Divide => {
                a.apply(op, b).map(Value::Int)
            }
            _ => apply_numbers(std::mem::ManuallyDrop::into_inner(item), op, operand),
        }
    }

    #[inline]
    fn apply_in_place(&mut self, op: Operation, operand: &Value) -> Result<()> {
        match (&mut *self, operand) {
            (Value::Int(a), Value::Int(b)) if op != Operation::Divide => {
                *a = a.apply(op, b)?;
            }
            (item, operand) => *item = apply_numbers(std::mem::take(item), op, operand)?,
        }
        Ok(())
    }

    fn apply_to_all(
        items: &mut [Value],
        op: Operation,
        operand: &Value,
    ) -> std::result::Result<(), (usize, Error)> {
        // An int operand decided once per batch, with one loop per operation: the per-item work is
        // a tag check and a checked op.
        match (op, operand) {
            (Operation::Add, &Value::Int(b)) => ints(items, op, operand, |a| a.checked_add(b)),
            (Operation::Subtract, &Value::Int(b)) => ints(items, op, operand, |a| a.checked_sub(b)),
            (Operation::Multiply, &Value::Int(b)) => ints(items, op, operand, |a| a.checked_mul(b)),
            _ => apply_each(items, op, operand),
        }
    }
}

/// The int-operand loop: `int_op` on int items (`None` is overflow), everything else as one item.
#[inline(always)]
fn ints(
    items: &mut [Value],
    op: Operation,
    operand: &Value,
    int_op: impl Fn(i64) -> Option<i64>,
) -> std::result::Result<(), (usize, Error)> {
    for (i, item) in items.iter_mut().enumerate() {
        let done = match item {
            Value::Int(a) => match int_op(*a) {
                Some(result) => {
                    *a = result;
                    continue;
                }
                None => item.apply_in_place(op, operand),
            },
            _ => item.apply_in_place(op, operand),
        };
        done.map_err(|err| (i, err))?;
    }
    Ok(())
}

/// Everything but int-and-int: strings that parse, floats, division, and items passed through.
#[inline(never)]
fn apply_numbers(item: Value, op: Operation, operand: &Value) -> Result<Value> {
    let (Some(x), Some(y)) = (Number::of(&item), Number::of(operand)) else {
        return Ok(item);
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
    fn in_place_agrees_with_by_value() {
        use Operation::*;
        let items = [
            Value::Int(7),
            Value::Int(i64::MAX),
            Value::Float(2.5),
            Value::from(" 3 "),
            Value::from("x"),
            Value::Null,
        ];
        let operands = [
            Value::Int(2),
            Value::Int(0),
            Value::Float(0.5),
            Value::from("4"),
        ];
        for op in [Add, Subtract, Multiply, Divide] {
            for item in &items {
                for operand in &operands {
                    let by_value = item.clone().apply(op, operand);
                    let mut in_place = item.clone();
                    let outcome = in_place.apply_in_place(op, operand);
                    match by_value {
                        Ok(v) => {
                            outcome.unwrap();
                            assert_eq!(in_place, v, "{item} {op} {operand}");
                        }
                        Err(e) => assert_eq!(outcome.unwrap_err().message(), e.message()),
                    }
                }
            }
        }
    }

    #[test]
    fn a_batch_agrees_with_item_by_item_and_stops_at_the_first_failure() {
        use Operation::*;
        let items = [
            Value::Int(7),
            Value::from(" 3 "),
            Value::Float(2.5),
            Value::from("x"),
            Value::Int(i64::MAX - 1),
            Value::Int(1),
        ];
        for op in [Add, Subtract, Multiply, Divide] {
            for operand in [
                Value::Int(2),
                Value::Int(0),
                Value::Float(0.5),
                Value::from("4"),
            ] {
                let mut batch = items.clone();
                let outcome = Value::apply_to_all(&mut batch, op, &operand);
                let one_by_one: Vec<Result<Value>> = items
                    .iter()
                    .map(|v| v.clone().apply(op, &operand))
                    .collect();
                let failed = one_by_one.iter().position(Result::is_err);
                match (outcome, failed) {
                    (Ok(()), None) => {}
                    (Err((i, err)), Some(j)) => {
                        assert_eq!(i, j, "{op} {operand}");
                        let expected = one_by_one[j].as_ref().unwrap_err();
                        assert_eq!(err.message(), expected.message());
                    }
                    (outcome, failed) => panic!("{op} {operand}: {outcome:?} vs {failed:?}"),
                }
                let done = failed.unwrap_or(items.len());
                for (got, expected) in batch[..done].iter().zip(&one_by_one) {
                    assert_eq!(got, expected.as_ref().unwrap(), "{op} {operand}");
                }
            }
        }
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
