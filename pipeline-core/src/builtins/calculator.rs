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

    /// `self = self <op> operand`, for the batch path: a batch is computed where it lies and handed
    /// on as one buffer. On an error `self` is left unspecified (the stream stops there).
    fn apply_in_place(&mut self, op: Operation, operand: &Self) -> Result<()>;

    /// [`apply_in_place`](Self::apply_in_place) over a whole batch, in order, stopping at the first
    /// failure: `Err((i, why))` when item `i` failed (items before it are computed). Types override
    /// it to make their per-batch checks once instead of per item.
    ///
    /// ```
    /// use pipeline_core::builtins::{Arithmetic, Operation};
    /// let mut items = [1_i8, 100, 120];
    /// let failed = i8::apply_to_all(&mut items, Operation::Add, &20).unwrap_err();
    /// assert_eq!((items[..2].to_vec(), failed.0), (vec![21, 120], 2));
    /// ```
    fn apply_to_all(
        items: &mut [Self],
        op: Operation,
        operand: &Self,
    ) -> std::result::Result<(), (usize, Error)> {
        apply_each(items, op, operand)
    }

    /// `self <op> operand` without a branch on the result: `(result, flag)`, where `flag` is
    /// negative when [`apply`](Self::apply) would fail (the result is then any value), for
    /// [`Node::pure_fn`]. A failure must never go unflagged; the default flags every item, so a
    /// type without a pure form always takes the item-by-item path.
    ///
    /// ```
    /// use pipeline_core::builtins::{Arithmetic, Operation};
    /// let (sum, flag) = 40_i64.apply_pure(Operation::Add, &2);
    /// assert!(sum == 42 && flag >= 0);
    /// assert!(i64::MIN.apply_pure(Operation::Subtract, &1).1 < 0);
    /// assert!(7_u8.apply_pure(Operation::Divide, &0).1 < 0);
    /// ```
    fn apply_pure(self, op: Operation, operand: &Self) -> (Self, i64) {
        let _ = (op, operand);
        (self, -1)
    }

    /// The value as a manifest param (a `Calculator`'s operand); `None` if a manifest cannot hold
    /// it, which leaves the node out of exported manifests.
    fn to_value(&self) -> Option<crate::Value> {
        None
    }
}

/// [`Arithmetic::apply_to_all`] item by item, with no per-batch shortcut.
pub(crate) fn apply_each<T: Arithmetic>(
    items: &mut [T],
    op: Operation,
    operand: &T,
) -> std::result::Result<(), (usize, Error)> {
    for (i, item) in items.iter_mut().enumerate() {
        item.apply_in_place(op, operand).map_err(|err| (i, err))?;
    }
    Ok(())
}

macro_rules! checked_integer {
    ($($t:ty),*) => {$(
        impl Arithmetic for $t {
            #[inline(always)]
            fn apply(self, op: Operation, operand: &Self) -> Result<Self> {
                // An add or subtract that overflows is reported from its wrapped result, which
                // gives the item back exactly: the hot path keeps nothing alive for the error
                // (with `checked_add`, a fused chain stored each intermediate item to the stack
                // before every add, for the cold path to read).
                let (result, overflowed) = match op {
                    Operation::Add => self.overflowing_add(*operand),
                    Operation::Subtract => self.overflowing_sub(*operand),
                    Operation::Multiply => match self.checked_mul(*operand) {
                        Some(product) => (product, false),
                        None => return Err(overflow(&self, op, operand)),
                    },
                    Operation::Divide if *operand == 0 => return Err(Error::msg("division by zero")),
                    Operation::Divide => match self.checked_div(*operand) {
                        Some(quotient) => (quotient, false),
                        None => return Err(overflow(&self, op, operand)),
                    },
                };
                if overflowed {
                    let item = if op == Operation::Add {
                        result.wrapping_sub(*operand)
                    } else {
                        result.wrapping_add(*operand)
                    };
                    return Err(overflow(&item, op, operand));
                }
                Ok(result)
            }

            #[inline(always)]
            fn apply_in_place(&mut self, op: Operation, operand: &Self) -> Result<()> {
                *self = self.apply(op, operand)?;
                Ok(())
            }

            /// Adds and subtracts in two passes the compiler vectorises: does any item overflow,
            /// then the arithmetic; an overflow goes item by item to find the first one.
            fn apply_to_all(
                items: &mut [Self],
                op: Operation,
                operand: &Self,
            ) -> std::result::Result<(), (usize, Error)> {
                let operand = *operand;
                let overflows = match op {
                    Operation::Add => items.iter().fold(false, |o, x| o | x.overflowing_add(operand).1),
                    Operation::Subtract => {
                        items.iter().fold(false, |o, x| o | x.overflowing_sub(operand).1)
                    }
                    Operation::Multiply | Operation::Divide => true,
                };
                if overflows {
                    return apply_each(items, op, &operand);
                }
                if op == Operation::Add {
                    items.iter_mut().for_each(|x| *x = x.wrapping_add(operand));
                } else {
                    items.iter_mut().for_each(|x| *x = x.wrapping_sub(operand));
                }
                Ok(())
            }

            /// Adds and subtracts flag an overflow by its top bit, with no branch (a `bool` per
            /// item kept the compiler from vectorising a fused line).
            #[inline(always)]
            fn apply_pure(self, op: Operation, operand: &Self) -> (Self, i64) {
                const SIGNED: bool = <$t>::MIN != 0;
                // The top bit moved to an `i64`'s sign: for a 64-bit type the value as it is.
                let top_bit = |top: $t| (((top as u128) << (128 - <$t>::BITS)) >> 64) as i64;
                let (a, b) = (self, *operand);
                match op {
                    Operation::Add => {
                        let y = a.wrapping_add(b);
                        // Signed: both operands differ in sign from the sum. Unsigned: the carry
                        // out of the top bit.
                        let top = if SIGNED { (a ^ y) & (b ^ y) } else { (a & b) | ((a | b) & !y) };
                        (y, top_bit(top))
                    }
                    Operation::Subtract => {
                        let y = a.wrapping_sub(b);
                        // Signed: the operands differ in sign and the difference takes `b`'s.
                        // Unsigned: the borrow out of the top bit.
                        let top = if SIGNED { (a ^ b) & (a ^ y) } else { (!a & b) | ((!a | b) & y) };
                        (y, top_bit(top))
                    }
                    Operation::Multiply => {
                        let (y, overflowed) = a.overflowing_mul(b);
                        (y, -i64::from(overflowed))
                    }
                    // `None` for a zero divisor and for `MIN / -1`, as `apply` fails on both.
                    Operation::Divide => match a.checked_div(b) {
                        Some(quotient) => (quotient, 0),
                        None => (a, -1),
                    },
                }
            }

            fn to_value(&self) -> Option<crate::Value> {
                i64::try_from(*self).ok().map(crate::Value::Int)
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

            #[inline(always)]
            fn apply_in_place(&mut self, op: Operation, operand: &Self) -> Result<()> {
                *self = self.apply(op, operand)?;
                Ok(())
            }

            /// The same tests as `apply`, as flags.
            #[inline(always)]
            fn apply_pure(self, op: Operation, operand: &Self) -> (Self, i64) {
                let result = match op {
                    Operation::Add => self + operand,
                    Operation::Subtract => self - operand,
                    Operation::Multiply => self * operand,
                    Operation::Divide => self / operand,
                };
                let by_zero = op == Operation::Divide && *operand == 0.0;
                let overflowed = !(result.is_finite() || !self.is_finite());
                (result, -i64::from(by_zero | overflowed))
            }

            fn to_value(&self) -> Option<crate::Value> {
                Some(crate::Value::Float(f64::from(*self)))
            }
        }
    )*};
}
checked_float!(f32, f64);

#[cold]
fn overflow<T: fmt::Debug>(item: &T, op: Operation, operand: &T) -> Error {
    Error::msg(format_args!("{op} {item:?} and {operand:?} overflows"))
}

/// Where a [`Calculator`] gets its operation: a value chosen at run time ([`Operation`], as manifests
/// do), or a zero-sized type fixed at compile time ([`ops::Add`], ...), which lets a fused chain
/// compile to the bare arithmetic.
pub trait OperationKind: Copy {
    /// The operation to apply.
    fn operation(&self) -> Operation;
}

impl OperationKind for Operation {
    #[inline(always)]
    fn operation(&self) -> Operation {
        *self
    }
}

/// Operations fixed at compile time.
pub mod ops {
    use super::{Operation, OperationKind};

    macro_rules! static_op {
        ($($name:ident),*) => {$(
            #[doc = concat!("`", stringify!($name), "`, fixed at compile time.")]
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            pub struct $name;
            impl OperationKind for $name {
                #[inline(always)]
                fn operation(&self) -> Operation {
                    Operation::$name
                }
            }
        )*};
    }
    static_op!(Add, Subtract, Multiply, Divide);
}

/// Applies one arithmetic operation with a fixed operand to every item (the seed's
/// `CalculatorNode`).
///
/// `Calculator::add(1)` fixes the operation in the type (no dispatch per item);
/// `Calculator::new(op, operand)` chooses it at run time.
///
/// ```
/// use pipeline_core::prelude::*;
/// use pipeline_core::builtins::Operation;
/// let mut out = Vec::new();
/// Calculator::multiply(3_i64).process(4, &mut out).unwrap();
/// Calculator::new(Operation::Subtract, 1_i64).process(4, &mut out).unwrap();
/// assert_eq!(out, [12, 3]);
/// let err = Calculator::divide(0_i64).process(4, &mut out).unwrap_err();
/// assert_eq!(err.message(), "division by zero");
/// ```
#[derive(Debug, Clone)]
pub struct Calculator<T, K = Operation> {
    kind: K,
    operand: T,
}

impl<T> Calculator<T, Operation> {
    /// `item <operation> operand`, the operation chosen at run time.
    pub fn new(operation: Operation, operand: T) -> Self {
        Calculator {
            kind: operation,
            operand,
        }
    }
}

impl<T> Calculator<T, ops::Add> {
    /// `item + operand`.
    pub fn add(operand: T) -> Self {
        Calculator {
            kind: ops::Add,
            operand,
        }
    }
}

impl<T> Calculator<T, ops::Subtract> {
    /// `item - operand`.
    pub fn subtract(operand: T) -> Self {
        Calculator {
            kind: ops::Subtract,
            operand,
        }
    }
}

impl<T> Calculator<T, ops::Multiply> {
    /// `item * operand`.
    pub fn multiply(operand: T) -> Self {
        Calculator {
            kind: ops::Multiply,
            operand,
        }
    }
}

impl<T> Calculator<T, ops::Divide> {
    /// `item / operand`.
    pub fn divide(operand: T) -> Self {
        Calculator {
            kind: ops::Divide,
            operand,
        }
    }
}

impl<T, K: OperationKind> Calculator<T, K> {
    /// The operation.
    pub fn operation(&self) -> Operation {
        self.kind.operation()
    }
    /// The operand.
    pub fn operand(&self) -> &T {
        &self.operand
    }
}

impl<T: Arithmetic, K: OperationKind> Node for Calculator<T, K> {
    type Input = T;
    type Output = T;

    fn manifest_node(&self) -> Option<crate::node::ManifestNode> {
        let operation = crate::Value::from(self.kind.operation().name());
        Some(crate::node::ManifestNode::new(
            "Calculator",
            [
                ("operation", operation),
                ("operand", self.operand.to_value()?),
            ],
        ))
    }

    #[inline(always)]
    fn process<E: Emitter<T> + ?Sized>(&mut self, item: T, out: &mut E) -> Result<()> {
        out.emit(item.apply(self.kind.operation(), &self.operand)?)
    }

    fn pure_fn(&self) -> Option<impl Fn(T) -> (T, i64) + '_> {
        let op = self.kind.operation();
        Some(move |item: T| item.apply_pure(op, &self.operand))
    }

    fn one_to_one(&self) -> bool {
        true
    }

    /// Computes the batch in place and hands it on as one buffer; the items before a failing one
    /// still go on.
    fn process_batch(&mut self, items: &mut Vec<T>, out: &mut Vec<T>) -> Result<()> {
        let outcome = T::apply_to_all(items, self.kind.operation(), &self.operand);
        if let Err((failed, _)) = outcome {
            items.truncate(failed);
        }
        crate::node::move_all(items, out);
        outcome.map_err(|(_, err)| err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_batch_integer_arithmetic_agrees_with_item_by_item() {
        let batches: [&[i64]; 3] = [&[1, -7, 40], &[5, i64::MAX - 2, 9], &[i64::MIN + 1, 3, 0]];
        for op in [Operation::Add, Operation::Subtract, Operation::Multiply] {
            for operand in [-3_i64, 0, 2, 5] {
                for batch in batches {
                    let (mut whole, mut each) = (batch.to_vec(), batch.to_vec());
                    let got = i64::apply_to_all(&mut whole, op, &operand).map_err(|e| e.0);
                    let want = apply_each(&mut each, op, &operand).map_err(|e| e.0);
                    assert_eq!(got, want, "{op} {operand} on {batch:?}");
                    // Up to a failing item, both computed the same; after it nothing is promised.
                    let done = got.err().unwrap_or(batch.len());
                    assert_eq!(whole[..done], each[..done], "{op} {operand} on {batch:?}");
                }
            }
        }
    }

    fn run<T: Arithmetic + Clone, K: OperationKind>(
        calc: &mut Calculator<T, K>,
        item: T,
    ) -> Result<T> {
        let mut out = Vec::new();
        calc.process(item, &mut out)?;
        Ok(out.pop().unwrap())
    }

    #[test]
    fn a_batch_is_computed_in_place_up_to_the_first_failure() {
        let mut calc = Calculator::multiply(10_i64);
        let mut items = vec![1, 2, i64::MAX, 4];
        let mut out = vec![0];
        let err = calc.process_batch(&mut items, &mut out).unwrap_err();
        assert!(err.message().contains("overflows"), "{err}");
        assert_eq!((items.len(), out), (0, vec![0, 10, 20]));
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
    fn an_overflow_names_the_item_as_it_was() {
        // Add and subtract report from the wrapped result: the item must come back exactly.
        let message = |err: Error| err.message().to_string();
        let add = run(&mut Calculator::add(2_i64), i64::MAX - 1).unwrap_err();
        assert_eq!(
            message(add),
            format!("add {} and 2 overflows", i64::MAX - 1)
        );
        let sub = run(&mut Calculator::subtract(3_u8), 1).unwrap_err();
        assert_eq!(message(sub), "subtract 1 and 3 overflows");
        let dynamic = run(&mut Calculator::new(Operation::Subtract, 1_i32), i32::MIN).unwrap_err();
        assert_eq!(
            message(dynamic),
            format!("subtract {} and 1 overflows", i32::MIN)
        );
        let mul = run(&mut Calculator::multiply(2_i64), i64::MAX).unwrap_err();
        assert_eq!(
            message(mul),
            format!("multiply {} and 2 overflows", i64::MAX)
        );
    }

    #[test]
    fn run_time_and_compile_time_operations_agree() {
        for op in Operation::ALL {
            let dynamic = run(&mut Calculator::new(op, 3_i64), 12).unwrap();
            let fixed = match op {
                Operation::Add => run(&mut Calculator::add(3_i64), 12),
                Operation::Subtract => run(&mut Calculator::subtract(3_i64), 12),
                Operation::Multiply => run(&mut Calculator::multiply(3_i64), 12),
                Operation::Divide => run(&mut Calculator::divide(3_i64), 12),
            };
            assert_eq!(dynamic, fixed.unwrap(), "{op}");
        }
    }

    #[test]
    fn float_operations() {
        assert_eq!(run(&mut Calculator::divide(2.0_f64), 3.0).unwrap(), 1.5);
    }

    /// The pure form flags exactly the items `apply` fails on (never missing one) and otherwise
    /// computes the same value.
    fn pure_agrees<T: Arithmetic + Copy + PartialEq + fmt::Debug>(a: T, op: Operation, b: T) {
        let (pure, flag) = a.apply_pure(op, &b);
        match a.apply(op, &b) {
            Ok(value) => {
                assert!(flag >= 0, "{a:?} {op} {b:?} flagged ({flag})");
                // NaN results compare by their bits.
                let same = value == pure || format!("{value:?}") == format!("{pure:?}");
                assert!(same, "{a:?} {op} {b:?}: {pure:?}, apply {value:?}");
            }
            Err(_) => assert!(flag < 0, "{a:?} {op} {b:?} not flagged ({flag})"),
        }
    }

    #[test]
    fn pure_arithmetic_on_every_pair_of_bytes_agrees_with_apply() {
        for op in Operation::ALL {
            for a in i8::MIN..=i8::MAX {
                for b in i8::MIN..=i8::MAX {
                    pure_agrees(a, op, b);
                    pure_agrees(a as u8, op, b as u8);
                }
            }
        }
    }

    #[test]
    fn pure_arithmetic_on_floats_agrees_with_apply() {
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for op in Operation::ALL {
            for a in edges {
                for b in edges {
                    pure_agrees(a, op, b);
                    pure_agrees(a as f32, op, b as f32);
                }
            }
        }
    }

    /// Values at and near the ends and the middle of `i64`'s range, where overflow checks go
    /// wrong.
    fn near_edges() -> impl Strategy<Value = i64> {
        prop_oneof![
            (0..4_i64).prop_map(|d| i64::MIN + d),
            (0..4_i64).prop_map(|d| i64::MAX - d),
            any::<i8>().prop_map(i64::from),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pure_arithmetic_on_wide_integers_agrees_with_apply(
            a in any::<i64>(),
            b in any::<i64>(),
            edge_a in near_edges(),
            edge_b in near_edges(),
            small in any::<i8>(),
        ) {
            for op in Operation::ALL {
                for (x, y) in [(a, b), (edge_a, edge_b), (edge_a, i64::from(small)), (a, edge_b)] {
                    pure_agrees(x, op, y);
                    pure_agrees(x as u64, op, y as u64);
                    pure_agrees(i128::from(x) << 64 | i128::from(y), op, i128::from(y));
                    pure_agrees((x as u128) << 64, op, y as u128);
                    pure_agrees(x as i32, op, y as i32);
                    pure_agrees(x as u16, op, y as u16);
                }
                pure_agrees(i128::MIN, op, i128::from(small));
                pure_agrees(i128::MAX, op, i128::from(small));
                pure_agrees(u128::MAX, op, small as u128);
            }
        }
    }
}
