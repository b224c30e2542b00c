//! `Echo` (the seed's): each item wrapped in a map with a counter.

use super::{Builtin, Constructor, ConstructorError, ItemKind, NoParams};
use crate::builtins::Echo;

/// `Echo`: emits maps, so it runs on `Value` items only.
pub struct EchoSpec;

impl Builtin for EchoSpec {
    const NAME: &'static str = "Echo";
    const DOC: &'static str =
        "Wraps each item as {\"input\": item, \"counter\": n, \"node\": \"Echo\"}, n counting from 1.";
    const KEEPS_STATE: bool = true;
    type Params = NoParams;
    type Node = Echo;

    fn params_from_text(object: &str) -> Option<NoParams> {
        NoParams::from_object_text(object)
    }

    fn build(_: NoParams) -> Echo {
        Echo::new()
    }

    fn constructor(_: &NoParams, item: ItemKind) -> Result<Constructor, ConstructorError> {
        if item != ItemKind::Value {
            return Err(ConstructorError {
                message: "`Echo` emits maps, so it needs the default item type `pipeline::Value` (drop `item = ...`)".to_string(),
                field: "/node_type".to_string(),
            });
        }
        Ok(Constructor::new("Echo", "new"))
    }
}
