//! `Count`: how many items a stream had.

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
use crate::builtins::Count;
use crate::value::Value;

/// `Count`: emits the number of items when the stream ends.
pub struct CountSpec;

impl Builtin for CountSpec {
    const NAME: &'static str = "Count";
    const DOC: &'static str = "Counts the items of a stream and emits the count when it ends.";
    const KEEPS_STATE: bool = true;
    type Params = NoParams;
    type Node = Count<Value>;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> Count<Value> {
        Count::new()
    }

    fn constructor(_: &NoParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        Ok(Constructor::new("Count", "new")
            .type_args([TypeArg::Item])
            .on_values(item == ItemKind::Value))
    }
}
