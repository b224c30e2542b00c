//! The params of `python` manifest nodes and the rules for combining them, without the
//! interpreter: shared by the run-time loader (`python::register_python`, feature `python`) and by
//! `pipeline!(manifest = "...")`, which compiles python nodes in a crate that never builds
//! RustPython. Checking the Python source itself (syntax, entry point defined) needs the
//! interpreter's parser and is done by the `python` module.
//!
//! ```
//! use pipeline_core::python_params::{PythonEntry, PythonParams};
//!
//! let params: PythonParams = serde_json::from_value(serde_json::json!({
//!     "code": "class Scale: ...", "class": "Scale", "args": {"factor": 3}
//! })).unwrap();
//! let spec = params.check().unwrap();
//! assert_eq!(spec.entry, PythonEntry::Class("Scale".into()));
//! assert_eq!(spec.args.unwrap()["factor"], 3);
//! ```

use crate::manifest::ParamError;
use serde::Deserialize;

/// The node type name of Python nodes in manifests.
pub const PYTHON_NODE_TYPE: &str = "python";

/// The params of a `python` node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonParams {
    /// A source file, relative to the manifest's folder (the loader reads it into `code`).
    #[serde(default)]
    pub file: Option<String>,
    /// Inline source.
    #[serde(default)]
    pub code: Option<String>,
    /// The class to instantiate (one instance per node).
    #[serde(default)]
    pub class: Option<String>,
    /// Or the function `f(item)` to call.
    #[serde(default)]
    pub function: Option<String>,
    /// Keyword arguments of the class constructor.
    #[serde(default)]
    pub args: Option<serde_json::Map<String, serde_json::Value>>,
    /// The file name tracebacks show; set by the loader to `file`.
    #[serde(default)]
    pub filename: Option<String>,
}

/// The node's entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonEntry {
    /// A class with `process(self, item)`, instantiated once per node.
    Class(String),
    /// A function `f(item)`.
    Function(String),
}

impl PythonEntry {
    /// The class or function name.
    pub fn name(&self) -> &str {
        match self {
            PythonEntry::Class(name) | PythonEntry::Function(name) => name,
        }
    }

    /// The param that named it: `class` or `function`.
    pub fn param(&self) -> &'static str {
        match self {
            PythonEntry::Class(_) => "class",
            PythonEntry::Function(_) => "function",
        }
    }
}

/// Params that passed [`PythonParams::check`]: everything a Python node is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonSpec {
    /// The source (a `file` already read into it by the loader).
    pub code: String,
    /// The class or function.
    pub entry: PythonEntry,
    /// Constructor keyword arguments (only ever set for a class).
    pub args: Option<serde_json::Map<String, serde_json::Value>>,
    /// The file name tracebacks show, if given.
    pub filename: Option<String>,
}

impl PythonParams {
    /// Checks the combination of params: exactly one of `file` (already read into `code` by the
    /// loader, see `manifest::read_python_files`) and `code`, exactly one of `class` and
    /// `function`, and no `args` for a function.
    ///
    /// ```
    /// use pipeline_core::python_params::PythonParams;
    /// let params: PythonParams = serde_json::from_value(serde_json::json!({
    ///     "code": "def f(x):\n    return x\n", "class": "A", "function": "f"
    /// })).unwrap();
    /// assert_eq!(
    ///     params.check().unwrap_err().to_string(),
    ///     "param `function`: give either `class` or `function`, not both"
    /// );
    /// ```
    pub fn check(self) -> Result<PythonSpec, ParamError> {
        let error = |param: &str, message: &str| ParamError {
            param: Some(param.to_string()),
            message: message.to_string(),
        };
        let code = match (self.file, self.code) {
            (Some(_), Some(_)) => {
                return Err(error("file", "give either `file` or `code`, not both"));
            }
            (None, None) => {
                return Err(ParamError {
                    param: None,
                    message: "a `python` node needs `file` (a path relative to the manifest) or `code` (inline source)".into(),
                });
            }
            (Some(file), None) => {
                return Err(error(
                    "file",
                    &format!("`{file}` was not read: `file` is resolved by the manifest loader (`manifest::load`), not by `lower`; pass inline `code` instead"),
                ));
            }
            (None, Some(code)) => code,
        };
        let entry = match (self.class, self.function) {
            (Some(_), Some(_)) => {
                return Err(error("function", "give either `class` or `function`, not both"))
            }
            (None, None) => {
                return Err(ParamError {
                    param: None,
                    message: "a `python` node needs `class` (a class with `process(self, item)`) or `function` (a function `f(item)`)".into(),
                })
            }
            (Some(class), None) => PythonEntry::Class(class),
            (None, Some(function)) => {
                if self.args.as_ref().is_some_and(|a| !a.is_empty()) {
                    return Err(error(
                        "args",
                        "`args` are constructor arguments: a `function` node takes none",
                    ));
                }
                PythonEntry::Function(function)
            }
        };
        let args = match entry {
            PythonEntry::Class(_) => self.args,
            PythonEntry::Function(_) => None,
        };
        Ok(PythonSpec {
            code,
            entry,
            args,
            filename: self.filename,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::deserialize_params;
    use serde_json::json;

    fn check(params: serde_json::Value) -> Result<PythonSpec, ParamError> {
        deserialize_params::<PythonParams>(&params).and_then(PythonParams::check)
    }

    #[test]
    fn bad_combinations_name_the_param() {
        let err = check(json!({"code": "x", "file": "a.py", "class": "A"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "param `file`: give either `file` or `code`, not both"
        );
        let err = check(json!({"class": "A"})).unwrap_err();
        assert_eq!(err.param, None);
        assert!(err.message.contains("needs `file`"), "{err}");
        let err = check(json!({"code": "x"})).unwrap_err();
        assert!(err.message.contains("needs `class`"), "{err}");
        let err = check(json!({"code": "x", "class": "A", "function": "f"})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("function"));
        let err = check(json!({"code": "x", "function": "f", "args": {"a": 1}})).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("args"));
        let err = check(json!({"file": "a.py", "function": "f"})).unwrap_err();
        assert!(err.message.contains("`a.py` was not read"), "{err}");
        let err = check(json!({"code": "x", "function": "f", "klass": "A"})).unwrap_err();
        assert!(err.message.contains("unknown field `klass`"), "{err}");
    }

    #[test]
    fn good_params_give_the_spec() {
        let spec =
            check(json!({"code": "src", "class": "A", "args": {"n": 1}, "filename": "a.py"}))
                .unwrap();
        assert_eq!(spec.code, "src");
        assert_eq!(spec.entry, PythonEntry::Class("A".into()));
        assert_eq!(spec.entry.param(), "class");
        assert_eq!(spec.args.unwrap()["n"], 1);
        assert_eq!(spec.filename.as_deref(), Some("a.py"));
        // A function may have empty args; they are dropped.
        let spec = check(json!({"code": "src", "function": "f", "args": {}})).unwrap();
        assert_eq!(spec.entry.name(), "f");
        assert_eq!(spec.args, None);
        assert_eq!(spec.filename, None);
    }
}
