//! `Sum`: the total of a stream of integers.

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
use crate::builtins::Sum;

/// `Sum`: over `Value` items it sums `i64`s (anything else is an error naming the expected type),
/// over typed items it sums that type.
pub struct SumSpec;

impl Builtin for SumSpec {
    const NAME: &'static str = "Sum";
    const DOC: &'static str =
        "Sums the items of a stream (overflow is an error) and emits the total when it ends.";
    const KEEPS_STATE: bool = true;
    type Params = NoParams;
    type Node = Sum<i64>;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> Sum<i64> {
        Sum::new()
    }

    fn constructor(_: &NoParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        let sum = Constructor::new("Sum", "new");
        Ok(match item {
            ItemKind::Value => sum.type_args([TypeArg::Primitive("i64")]).on_values(true),
            ItemKind::Int | ItemKind::Float => sum.type_args([TypeArg::Item]),
        })
    }
}
