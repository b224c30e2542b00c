//! `Batch`: items grouped into lists of `size`.

use super::{Arg, Builtin, Constructor, ConstructorError, ItemKind, TypeArg};
use crate::builtins::Batch;
use crate::value::Value;
use schemars::JsonSchema;
use serde::Deserialize;
use std::num::NonZeroUsize;

/// `Batch`: groups items into lists; the last, shorter list when the stream ends.
pub struct BatchSpec;

/// `Batch` params.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct BatchParams {
    /// Items per batch.
    pub size: NonZeroUsize,
}

impl Builtin for BatchSpec {
    const NAME: &'static str = "Batch";
    const DOC: &'static str =
        "Groups items into lists of `size`; the last, shorter list when the stream ends.";
    const KEEPS_STATE: bool = true;
    type Params = BatchParams;
    type Node = Batch<Value>;

    fn build(params: BatchParams) -> Batch<Value> {
        Batch::new(params.size.get())
    }

    fn constructor(params: &BatchParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        Ok(Constructor::new("Batch", "new")
            .type_args([TypeArg::Item])
            .args([Arg::Usize(params.size.get())])
            .on_values(item == ItemKind::Value))
    }
}

#[cfg(test)]
mod tests {
    use super::super::builtin_spec;
    use serde_json::json;

    #[test]
    fn size_is_required_and_positive() {
        let batch = builtin_spec("Batch").unwrap();
        assert_eq!(
            batch.check(&json!({})).unwrap_err().to_string(),
            "missing field `size`"
        );
        let err = batch.check(&json!({"size": 0})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("size"), "{err}");
        assert!(batch.check(&json!({"size": 2})).is_ok());
    }
}
