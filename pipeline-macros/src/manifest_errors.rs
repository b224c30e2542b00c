//! Manifest problems → compile errors on the `manifest = "..."` literal, each quoting the place in
//! the JSON file (file:line:column, JSON pointer, node) with the line and a marker under the value,
//! in the style of rustc's own messages.

use pipeline_core::manifest::{Location, ManifestError, Problem};
use proc_macro2::Span;

/// One `syn::Error` holding every error of `err` (warnings are left out: a proc macro cannot warn).
pub fn to_syn_error(err: &ManifestError, span: Span) -> syn::Error {
    let mut combined: Option<syn::Error> = None;
    for problem in err.errors() {
        let this = syn::Error::new(span, render(problem, &err.file, &err.text));
        match &mut combined {
            Some(all) => all.combine(this),
            None => combined = Some(this),
        }
    }
    combined.unwrap_or_else(|| syn::Error::new(span, format!("invalid manifest `{}`", err.file)))
}

/// `message`, then ` --> file:line:column at /pointer`, the line and a marker; help and notes last.
pub fn render(problem: &Problem, file: &str, text: &str) -> String {
    let mut out = problem.message();
    out.push_str(&snippet(&problem.location, file, text));
    if let Some(help) = &problem.help {
        out.push_str(&format!("\nhelp: {help}"));
    }
    for (loc, note) in &problem.related {
        out.push_str(&format!(
            "\nnote: {note} ({file}:{}:{} at {})",
            loc.line,
            loc.column,
            pointer(loc)
        ));
    }
    out
}

fn pointer(loc: &Location) -> &str {
    if loc.pointer.is_empty() {
        "/"
    } else {
        &loc.pointer
    }
}

fn snippet(loc: &Location, file: &str, text: &str) -> String {
    let mut out = format!(
        "\n  --> {file}:{}:{} at {}",
        loc.line,
        loc.column,
        pointer(loc)
    );
    if let Some(line) = text.lines().nth(loc.line.saturating_sub(1)) {
        let number = loc.line.to_string();
        let gutter = " ".repeat(number.len());
        let rest = line
            .chars()
            .count()
            .saturating_sub(loc.column.saturating_sub(1));
        let width = text
            .get(loc.offset..loc.offset + loc.len)
            .map_or(1, |v| v.chars().count())
            .clamp(1, rest.max(1));
        let pad = " ".repeat(loc.column.saturating_sub(1));
        out.push_str(&format!(
            "\n {gutter} |\n {number} | {line}\n {gutter} | {pad}{}",
            "^".repeat(width)
        ));
    }
    out
}
