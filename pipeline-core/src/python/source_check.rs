//! A Python node's source checked when the manifest is loaded, before any interpreter starts: a
//! syntax error (with line and caret) or an entry that the source never defines is a manifest
//! problem located at the node's params, not a failure on the first run.

use crate::dynamic::ParamError;
use rustpython_vm::compiler::ast::{ExceptHandler, Expr, Stmt};
use rustpython_vm::compiler::parser::parse_module;

/// Parses `source` and checks that `name` is bound at its top level (`param` names the entry's
/// param, `class` or `function`, for the error).
pub(crate) fn check(
    source: &str,
    filename: &str,
    param: &str,
    name: &str,
) -> Result<(), ParamError> {
    let parsed = parse_module(source).map_err(|err| {
        let offset = usize::from(err.location.start()).min(source.len());
        ParamError {
            param: Some("code".into()),
            message: syntax_error(source, filename, offset, &err.error.to_string()),
        }
    })?;
    let mut names = Vec::new();
    bound_names(&parsed.syntax().body, &mut names);
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    let defined = if names.is_empty() {
        "nothing".to_string()
    } else {
        names.join(", ")
    };
    Err(ParamError {
        param: Some(param.into()),
        message: format!(
            "the source ({filename}) defines no {param} `{name}` at its top level (it defines: {defined})"
        ),
    })
}

/// `SyntaxError: message` then `File "...", line N`, the line and a caret under the column.
fn syntax_error(source: &str, filename: &str, offset: usize, message: &str) -> String {
    let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let lineno = source[..offset].matches('\n').count() + 1;
    let line = source[line_start..].lines().next().unwrap_or("");
    let column = source[line_start..offset].chars().count();
    let trimmed = line.trim_start();
    let indent = line.chars().count() - trimmed.chars().count();
    format!(
        "SyntaxError: {message}\n  File \"{filename}\", line {lineno}\n    {trimmed}\n    {}^",
        " ".repeat(column.saturating_sub(indent))
    )
}

/// Names bound by top-level statements (also inside top-level `if`/`try`/`with`/loops).
fn bound_names(body: &[Stmt], names: &mut Vec<String>) {
    for stmt in body {
        match stmt {
            Stmt::ClassDef(c) => names.push(c.name.as_str().to_string()),
            Stmt::FunctionDef(f) => names.push(f.name.as_str().to_string()),
            Stmt::Assign(a) => a.targets.iter().for_each(|t| target_names(t, names)),
            Stmt::AnnAssign(a) => target_names(&a.target, names),
            Stmt::Import(i) => names.extend(i.names.iter().map(|a| {
                let name = a.asname.as_ref().unwrap_or(&a.name).as_str();
                name.split('.').next().unwrap_or(name).to_string()
            })),
            Stmt::ImportFrom(i) => names.extend(
                i.names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str().to_string()),
            ),
            Stmt::If(s) => {
                bound_names(&s.body, names);
                for clause in &s.elif_else_clauses {
                    bound_names(&clause.body, names);
                }
            }
            Stmt::Try(t) => {
                bound_names(&t.body, names);
                for ExceptHandler::ExceptHandler(h) in &t.handlers {
                    bound_names(&h.body, names);
                }
                bound_names(&t.orelse, names);
                bound_names(&t.finalbody, names);
            }
            Stmt::With(w) => bound_names(&w.body, names),
            Stmt::For(f) => {
                bound_names(&f.body, names);
                bound_names(&f.orelse, names);
            }
            Stmt::While(w) => {
                bound_names(&w.body, names);
                bound_names(&w.orelse, names);
            }
            _ => {}
        }
    }
}

fn target_names(target: &Expr, names: &mut Vec<String>) {
    match target {
        Expr::Name(n) => names.push(n.id.as_str().to_string()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, names)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_show_the_line_and_a_caret() {
        let err = check("x = 1\ndef f(:\n    pass\n", "n.py", "function", "f").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("code"));
        assert!(err.message.starts_with("SyntaxError: "), "{}", err.message);
        assert!(
            err.message
                .contains("File \"n.py\", line 2\n    def f(:\n          ^"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_entry_must_be_bound_at_top_level() {
        let source = "import json as j\nclass A:\n    def process(self, x):\n        return x\nif True:\n    B = A\n";
        for name in ["A", "B", "j"] {
            check(source, "n.py", "class", name).unwrap();
        }
        let err = check(source, "n.py", "class", "C").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("class"));
        assert!(
            err.message
                .contains("defines no class `C` at its top level (it defines: j, A, B)"),
            "{}",
            err.message
        );
    }
}
