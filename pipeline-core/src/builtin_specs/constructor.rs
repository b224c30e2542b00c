//! How a compiled manifest builds a built-in, as data: a constructor under `pipeline::builtins`
//! with its type arguments and literal arguments. The `pipeline!` macro renders it as tokens
//! (`manifest_nodes.rs`), so this crate needs no `proc_macro2`.

/// The kind of items a compiled manifest runs on (`pipeline!(manifest = "...", item = T)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `pipeline::Value`, the default: the seed's semantics, outputs equal the dynamic loader's.
    Value,
    /// A primitive integer type.
    Int,
    /// A primitive float type.
    Float,
}

/// A type argument of a [`Constructor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeArg {
    /// The manifest's item type.
    Item,
    /// `Vec` of the item type.
    ListOfItem,
    /// A type under `pipeline::builtins`, as a path (`ops::Add`).
    Builtin(&'static str),
    /// A primitive type (`i64`).
    Primitive(&'static str),
    /// `_`: a type rustc infers from the arguments, such as the closure of `Partition`'s
    /// predicate.
    Inferred,
}

/// A literal argument of a [`Constructor`].
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A `usize`.
    Usize(usize),
    /// A string literal.
    Str(String),
    /// An array of string literals (`["audio", "video"]`).
    Strs(Vec<String>),
    /// The number given as param `param`, as a value of the item type (for `Value` items
    /// exactly the `Value` the registry makes of it). A fraction for integer items is an error at
    /// the param.
    ItemNumber {
        /// The param it comes from, for the error.
        param: &'static str,
        /// Its value.
        value: serde_json::Number,
    },
    /// A `Partition` predicate as its params write it: `ValueTest::new(op, value, field)
    /// .predicate()` (see [`ValueTest::predicate`](super::ValueTest::predicate)), the value made
    /// as the registry makes it.
    ValueTest {
        /// The comparison.
        op: super::CompareOp,
        /// What it compares with.
        value: Option<serde_json::Value>,
        /// The field of map items it tests, if any.
        field: Option<String>,
    },
}

/// `pipeline::builtins::<path>::<type_args>::<function>(<args>)`, in `OnValues(..)` if
/// `on_values`.
///
/// ```
/// use pipeline_core::builtin_specs::{Arg, Constructor, TypeArg};
/// let batch = Constructor::new("Batch", "new")
///     .type_args([TypeArg::Item])
///     .args([Arg::Usize(3)])
///     .on_values(true);
/// assert_eq!(batch.function, "new");
/// assert!(batch.on_values);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Constructor {
    /// The node type's path under `pipeline::builtins` (`Calculator`).
    pub path: &'static str,
    /// Its type arguments.
    pub type_args: Vec<TypeArg>,
    /// The associated function that builds it (`new`, `add`).
    pub function: &'static str,
    /// The function's arguments.
    pub args: Vec<Arg>,
    /// Whether the node is wrapped in `OnValues`: a typed node run on `Value` items through the
    /// same conversions the registry wraps around it.
    pub on_values: bool,
    /// For a node whose items carry the index of their port ([`Routed`](crate::builtins::Routed)):
    /// the names of its ports, in order. The compiled code gives its items a port type of their
    /// own with an accessor per name ([`Route::with_ports`](crate::builtins::Route::with_ports)).
    pub indexed_ports: Option<Vec<String>>,
}

impl Constructor {
    /// `pipeline::builtins::<path>::<function>()`.
    pub fn new(path: &'static str, function: &'static str) -> Constructor {
        Constructor {
            path,
            type_args: Vec::new(),
            function,
            args: Vec::new(),
            on_values: false,
            indexed_ports: None,
        }
    }

    /// With these type arguments.
    pub fn type_args(mut self, type_args: impl IntoIterator<Item = TypeArg>) -> Constructor {
        self.type_args = type_args.into_iter().collect();
        self
    }

    /// With these arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = Arg>) -> Constructor {
        self.args = args.into_iter().collect();
        self
    }

    /// Wrapped in `OnValues` if `wrapped`.
    pub fn on_values(mut self, wrapped: bool) -> Constructor {
        self.on_values = wrapped;
        self
    }

    /// Its items carry the index of their port, among ports named `names`.
    ///
    /// ```
    /// use pipeline_core::builtin_specs::Constructor;
    /// let route = Constructor::new("Route", "by_type").indexed_ports(["int", "float"]);
    /// assert_eq!(route.indexed_ports.unwrap(), ["int", "float"]);
    /// ```
    pub fn indexed_ports<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Constructor {
        self.indexed_ports = Some(names.into_iter().map(Into::into).collect());
        self
    }
}

/// Why a built-in cannot be compiled over the manifest's item type: a message (the macro prefixes
/// the node's id) and the JSON pointer under the node it is about (`/node_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstructorError {
    /// What is wrong and what to do.
    pub message: String,
    /// Where, under the node.
    pub field: String,
}
