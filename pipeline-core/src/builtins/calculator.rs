use crate::error::{Error, Result};
use crate::node::{Emitter, Node};
use std::fmt;

/// The four operations of the seed's `CalculatorNode`.
///
/// ```
/// use pipeline_core::builtins::Operation;
/// assert_eq!("divide".parse::<Operation>().unwrap(), Operation::Divide);
/// assert!("modulo".parse::<Operation>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operation {
    /// `item + operand`
    #[default]
    Add,
    /// `item - operand`
    Subtract,
    /// `item * operand`
    Multiply,
    /// `item / operand`; dividing by zero is an error.
    Divide,
}

impl Operation {
    /// All operations, in the order the seed documents them.
    pub const ALL: [Operation; 4] = [
        Operation::Add,
        Operation::Subtract,
        Operation::Multiply,
        Operation::Divide,
    ];

    /// The manifest spelling: `add`, `subtract`, `multiply`, `divide`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Add => "add",
            Operation::Subtract => "subtract",
            Operation::Multiply => "multiply",
            Operation::Divide => "divide",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Operation::ALL
            .into_iter()
            .find(|op| op.name() == s)
            .ok_or_else(|| {
                format!("unknown operation `{s}`: expected add, subtract, multiply or divide")
            })
    }
}

/// Item types a [`Calculator`] can compute on. Overflow and division by zero are errors, never a
/// panic, a wrap or an infinity.
pub trait Arithmetic: Sized {
    /// `self <op> operand`, or why it has no result.
    fn apply(self, op: Operation, operand: &Self) -> Result<Self>;
}

macro_rules! checked_integer {
    ($($t:ty),*) => {$(
        impl Arithmetic for $t {
            #[inline(always)]
            fn apply(self, op: Operation, operand: &Self) -> Result<Self> {
                let result = match op {
                    Operation::Add => self.checked_add(*operand),
                    Operation::Subtract => self.checked_sub(*operand),
                    Operation::Multiply => self.checked_mul(*operand),
                    Operation::Divide if *operand == 0 => return Err(Error::msg("division by zero")),
                    Operation::Divide => self.checked_div(*operand),
                };
                result.ok_or_else(|| overflow(&self, op, operand))
            }
        }
    )*};
}
checked_integer!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! checked_float {
    ($($t:ty),*) => {$(
        impl Arithmetic for $t {
            #[inline(always)]
            fn apply(self, op: Operation, operand: &Self) -> Result<Self> {
                let result = match op {
                    Operation::Add => self + operand,
                    Operation::Subtract => self - operand,
                    Operation::Multiply => self * operand,
                    Operation::Divide if *operand == 0.0 => return Err(Error::msg("division by zero")),
                    Operation::Divide => self / operand,
                };
                if result.is_finite() || !self.is_finite() {
                    Ok(result)
                } else {
                    Err(overflow(&self, op, operand))
                }
            }
        }
    )*};
}
checked_float!(f32, f64);

#[cold]
fn overflow<T: fmt::Debug>(item: &T, op: Operation, operand: &T) -> Error {
    Error::msg(format_args!("{op} {item:?} and {operand:?} overflows"))
}

/// Applies one arithmetic operation with a fixed operand to every item (the seed's
/// `CalculatorNode`).
///
/// ```
/// use pipeline_core::prelude::*;
/// let mut out = Vec::new();
/// Calculator::multiply(3_i64).process(4, &mut out).unwrap();
/// assert_eq!(out, [12]);
/// let err = Calculator::divide(0_i64).process(4, &mut out).unwrap_err();
/// assert_eq!(err.message(), "division by zero");
/// ```
#[derive(Debug, Clone)]
pub struct Calculator<T> {
    operation: Operation,
    operand: T,
}

impl<T> Calculator<T> {
    /// `item <operation> operand`.
    pub fn new(operation: Operation, operand: T) -> Self {
        Calculator { operation, operand }
    }
    /// `item + operand`.
    pub fn add(operand: T) -> Self {
        Self::new(Operation::Add, operand)
    }
    /// `item - operand`.
    pub fn subtract(operand: T) -> Self {
        Self::new(Operation::Subtract, operand)
    }
    /// `item * operand`.
    pub fn multiply(operand: T) -> Self {
        Self::new(Operation::Multiply, operand)
    }
    /// `item / operand`.
    pub fn divide(operand: T) -> Self {
        Self::new(Operation::Divide, operand)
    }
    /// The operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }
    /// The operand.
    pub fn operand(&self) -> &T {
        &self.operand
    }
}

impl<T: Arithmetic> Node for Calculator<T> {
    type Input = T;
    type Output = T;

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(item.apply(self.operation, &self.operand)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T: Arithmetic + Clone>(calc: &mut Calculator<T>, item: T) -> Result<T> {
        let mut out = Vec::new();
        calc.process(item, &mut out)?;
        Ok(out.pop().unwrap())
    }

    #[test]
    fn integer_operations() {
        assert_eq!(run(&mut Calculator::add(2_i64), 3).unwrap(), 5);
        assert_eq!(run(&mut Calculator::subtract(2_i64), 3).unwrap(), 1);
        assert_eq!(run(&mut Calculator::multiply(2_i64), 3).unwrap(), 6);
        assert_eq!(run(&mut Calculator::divide(2_i64), 7).unwrap(), 3);
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        let err = run(&mut Calculator::add(1_i64), i64::MAX).unwrap_err();
        assert!(err.message().contains("overflows"), "{err}");
        assert_eq!(
            run(&mut Calculator::divide(0.0_f64), 1.0)
                .unwrap_err()
                .message(),
            "division by zero"
        );
        assert!(run(&mut Calculator::multiply(f64::MAX), 2.0).is_err());
    }

    #[test]
    fn float_operations() {
        assert_eq!(run(&mut Calculator::divide(2.0_f64), 3.0).unwrap(), 1.5);
    }
}
