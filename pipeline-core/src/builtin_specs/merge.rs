//! `Merge`: where branches meet.

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams, TypeArg};
use crate::builtins::Merge;
use crate::value::Value;

/// `Merge`: every edge into it feeds one stream out.
pub struct MergeSpec;

impl Builtin for MergeSpec {
    const NAME: &'static str = "Merge";
    const DOC: &'static str =
        "The meeting point of several branches: every edge into it feeds one stream out.";
    type Params = NoParams;
    type Node = Merge<Value>;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> Merge<Value> {
        Merge::new()
    }

    fn constructor(_: &NoParams, _: ItemKind) -> Result<Constructor, ConstructorError> {
        Ok(Constructor::new("Merge", "new").type_args([TypeArg::Item]))
    }
}
