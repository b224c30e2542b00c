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

    /// Zero-sized, the node is its own `DynNode`: boxed without an allocation (five of the
    /// benchmark's ten nodes are pass-throughs), where `Typed` would add two buffers.
    #[cfg(feature = "manifest")]
    fn own_dyn_node(_: &NoParams) -> Option<Box<dyn crate::dynamic::DynNode>> {
        Some(Box::new(PassThrough::<Value>::new()))
    }
}

#[cfg(all(test, feature = "manifest"))]
mod tests {
    use crate::builtin_specs::builtin_spec;
    use crate::value::Value;

    #[test]
    fn the_registry_s_pass_through_is_zero_sized_and_keeps_origins() {
        let spec = builtin_spec("PassThroughNode").unwrap();
        for mut node in [
            spec.build(&serde_json::json!({})).unwrap(),
            spec.build_from_text("{}").unwrap(),
        ] {
            // Zero-sized: its box took no allocation.
            assert_eq!(std::mem::size_of_val(&*node), 0);
            assert!(!node.may_resume());
            let (mut out, mut origins) = (vec![Value::Int(0)], vec![3]);
            let (mut items, mut item_origins) = (vec![Value::Int(1), Value::from("a")], vec![4, 5]);
            node.process_batch_traced(&mut items, &mut item_origins, &mut out, &mut origins)
                .unwrap();
            assert_eq!(out, [Value::Int(0), Value::Int(1), Value::from("a")]);
            assert_eq!(origins, [3, 4, 5]);
            assert!(items.is_empty() && item_origins.is_empty());
        }
    }
}
