//! `Unbatch`: lists back into items.

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
use crate::builtins::Unbatch;
use crate::value::Value;

/// `Unbatch`: the inverse of `Batch`.
pub struct UnbatchSpec;

impl Builtin for UnbatchSpec {
    const NAME: &'static str = "Unbatch";
    const DOC: &'static str = "Emits every element of each incoming list (the inverse of Batch).";
    type Params = NoParams;
    type Node = Unbatch<Vec<Value>>;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> Unbatch<Vec<Value>> {
        Unbatch::new()
    }

    fn constructor(_: &NoParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        Ok(Constructor::new("Unbatch", "new")
            .type_args([TypeArg::ListOfItem])
            .on_values(item == ItemKind::Value))
    }
}
