//! The built-in node types, one file each: its names, params, port types, one-line doc, the node
//! the run-time registry builds and the constructor a compiled manifest emits (see [`Builtin`]).
//! Everything that lists built-ins reads [`BUILTIN_SPECS`]: `Registry::with_builtins`, the
//! manifest loader through it, `pipeline!(manifest = "...")`'s catalog and code, and
//! `pipeline nodes`.
//!
//! Adding a built-in: its typed node in `builtins/`, one file here implementing [`Builtin`], and
//! one line in [`BUILTIN_SPECS`].
//!
//! ```
//! use pipeline_core::builtin_specs::{builtin_spec, BUILTIN_SPECS};
//! use pipeline_core::graph::PortType;
//! let calculator = builtin_spec("CalculatorNode").unwrap();
//! assert_eq!(calculator.name, "Calculator");
//! assert_eq!(builtin_spec("Sum").unwrap().accepts, PortType::Int);
//! assert!(BUILTIN_SPECS.iter().any(|t| t.name == "Echo"));
//! ```

mod batch;
mod calculator;
mod constructor;
mod count;
mod echo;
mod merge;
mod partition;
mod pass_through;
mod plain_params;
mod route;
mod spec;
mod sum;
mod unbatch;

pub use batch::{BatchParams, BatchSpec};
pub use calculator::{CalculatorParams, CalculatorSpec, OperationName};
pub use constructor::{Arg, Constructor, ConstructorError, ItemKind, TypeArg};
pub use count::CountSpec;
pub use echo::EchoSpec;
pub use merge::MergeSpec;
pub use partition::{BoxedTest, CompareOp, PartitionParams, PartitionSpec, ValueTest};
pub use pass_through::PassThroughSpec;
pub use route::{RouteBy, RouteParams, RouteSpec};
pub use spec::{Builtin, BuiltinSpec, NoParams};
pub use sum::SumSpec;
pub use unbatch::UnbatchSpec;

/// Every built-in node type, in the order `pipeline nodes` and "did you mean" see them.
pub const BUILTIN_SPECS: &[BuiltinSpec] = &[
    BuiltinSpec::of::<PassThroughSpec>(),
    BuiltinSpec::of::<CalculatorSpec>(),
    BuiltinSpec::of::<EchoSpec>(),
    BuiltinSpec::of::<CountSpec>(),
    BuiltinSpec::of::<SumSpec>(),
    BuiltinSpec::of::<BatchSpec>(),
    BuiltinSpec::of::<UnbatchSpec>(),
    BuiltinSpec::of::<MergeSpec>(),
    BuiltinSpec::of::<PartitionSpec>(),
    BuiltinSpec::of::<RouteSpec>(),
];

/// The built-in named (or aliased) `name`.
pub fn builtin_spec(name: &str) -> Option<&'static BuiltinSpec> {
    BUILTIN_SPECS.iter().find(|spec| spec.answers_to(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::PortType;

    #[test]
    fn port_types_come_from_the_typed_nodes() {
        let ports = |name| {
            let spec = builtin_spec(name).unwrap();
            (spec.accepts, spec.emits)
        };
        assert_eq!(ports("Sum"), (PortType::Int, PortType::Int));
        assert_eq!(ports("Count"), (PortType::Any, PortType::Number));
        assert_eq!(ports("Batch"), (PortType::Any, PortType::List));
        assert_eq!(ports("Unbatch"), (PortType::List, PortType::Any));
        assert_eq!(ports("PassThroughNode"), (PortType::Any, PortType::Any));
    }

    #[test]
    fn names_and_aliases_are_unique() {
        let mut names: Vec<&str> = BUILTIN_SPECS
            .iter()
            .flat_map(|spec| std::iter::once(spec.name).chain(spec.aliases.iter().copied()))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{names:?}");
    }
}
