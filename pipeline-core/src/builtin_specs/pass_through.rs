//! `PassThrough` (the seed's `PassThroughNode`).

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
use crate::builtins::PassThrough;
use crate::value::Value;

/// `PassThrough`: emits its input unchanged.
pub struct PassThroughSpec;

impl Builtin for PassThroughSpec {
    const NAME: &'static str = "PassThrough";
    const ALIASES: &'static [&'static str] = &["PassThroughNode"];
    const DOC: &'static str = "Emits each item unchanged.";
    type Params = NoParams;
    type Node = PassThrough<Value>;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> PassThrough<Value> {
        PassThrough::new()
    }

    fn constructor(_: &NoParams, _: ItemKind) -> Result<Constructor, ConstructorError> {
        Ok(Constructor::new("PassThrough", "new").type_args([TypeArg::Item]))
    }
}
