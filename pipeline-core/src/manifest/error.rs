//! Manifest problems: what is wrong (or suspicious), in which node, and where in the file.

use super::location::Location;
use crate::graph::{GraphError, GraphErrorKind};
use std::fmt;
use std::sync::Arc;

/// What is wrong with a manifest.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file is not JSON.
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// The JSON does not have the manifest's shape (missing field, wrong type, wrong version).
    #[error("{0}")]
    Schema(String),
    /// `node_type` is not registered.
    #[error("unknown node type `{type_name}`{}", did_you_mean(.suggestion))]
    UnknownNodeType {
        /// The type asked for.
        type_name: String,
        /// The closest registered type.
        suggestion: Option<String>,
    },
    /// The node type rejected its params.
    #[error("invalid params for `{node_type}`: {message}")]
    Params {
        /// The node type.
        node_type: String,
        /// The param and what was wrong with it.
        message: String,
    },
    /// A rule of the shared graph validator (the same rules as `pipeline!`).
    #[error("{0}")]
    Graph(GraphErrorKind),
    /// The node cannot run on this host.
    #[error("cannot run here: {0}")]
    Placement(String),
    /// A key appears twice in one JSON object (JSON parsers disagree on which one wins).
    #[error("key `{0}` appears twice in this object; remove one (a repeated key would silently replace the earlier value)")]
    RepeatedKey(String),
    /// An integer the pipeline's 64-bit integers cannot hold exactly.
    #[error("integer {0} does not fit in a 64-bit signed integer (-9223372036854775808..=9223372036854775807); write it as a string, or as a float if an approximation will do")]
    IntegerOutOfRange(String),
    /// A field this version does not know (warning).
    #[error("unknown field `{0}` is ignored")]
    UnknownField(String),
    /// A note that does not stop the pipeline (warning).
    #[error("{0}")]
    Note(String),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"))
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops loading.
    Error,
    /// Reported, then ignored.
    Warning,
}

/// One problem at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What.
    pub kind: ProblemKind,
    /// Error or warning.
    pub severity: Severity,
    /// The node it concerns, when there is one.
    pub node: Option<String>,
    /// Where.
    pub location: Location,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that explain it.
    pub related: Vec<(Location, String)>,
}

impl Problem {
    /// An error.
    pub fn error(kind: ProblemKind, node: Option<String>, location: Location) -> Problem {
        Problem {
            kind,
            severity: Severity::Error,
            node,
            location,
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning.
    pub fn warning(kind: ProblemKind, node: Option<String>, location: Location) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(kind, node, location)
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: Option<String>) -> Problem {
        self.help = help;
        self
    }

    /// The message, naming the node unless the message already does.
    pub fn message(&self) -> String {
        let text = self.kind.to_string();
        match &self.node {
            Some(id) if !text.contains(&format!("`{id}`")) => format!("node `{id}`: {text}"),
            _ => text,
        }
    }

    /// A shared-validator error, attributed to the node it names (or whose entry it points into).
    pub(crate) fn from_graph(
        error: GraphError<Location>,
        node_at: impl Fn(&str) -> Option<String>,
    ) -> Problem {
        let node = node_of(&error.kind).or_else(|| node_at(&error.loc.pointer));
        Problem {
            kind: ProblemKind::Graph(error.kind),
            severity: Severity::Error,
            node,
            location: error.loc,
            help: error.help,
            related: error.related,
        }
    }
}

/// The node a graph error is about, from its own fields.
fn node_of(kind: &GraphErrorKind) -> Option<String> {
    use GraphErrorKind::*;
    match kind {
        DuplicateNode { id }
        | ReservedName { id }
        | InvalidId { id }
        | Unconnected { id }
        | Unreachable { id }
        | DeadEnd { id }
        | ZeroParallelism { id }
        | FusedChainTooLong { id, .. }
        | TooManyStages { id, .. } => Some(id.clone()),
        PortTypes { to, .. } => Some(to.clone()),
        Cycle { path } => path.first().cloned(),
        _ => None,
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {severity}: {}", self.location, self.message())?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        for (loc, note) in &self.related {
            write!(f, "\n  note: {note} at {loc}")?;
        }
        Ok(())
    }
}

/// How many errors a [`ManifestError`] lists; the rest are counted in a last line.
pub const MAX_LISTED_ERRORS: usize = 50;
/// How many warnings a manifest's problems list; the rest are counted in a last line.
pub const MAX_LISTED_WARNINGS: usize = 20;

/// Keeps the first [`MAX_LISTED_ERRORS`] errors and [`MAX_LISTED_WARNINGS`] warnings of
/// `problems` (in their order), and counts the rest in a summary of each severity: a generated
/// manifest with a mistake repeated on 100,000 nodes gets a readable report, not megabytes.
pub(crate) fn capped(problems: Vec<Problem>) -> Vec<Problem> {
    let (mut errors, mut warnings) = (0usize, 0usize);
    let mut dropped_all_unknown_fields = true;
    let mut kept = Vec::with_capacity(
        problems
            .len()
            .min(MAX_LISTED_ERRORS + MAX_LISTED_WARNINGS + 2),
    );
    for problem in problems {
        let (count, max) = match problem.severity {
            Severity::Error => (&mut errors, MAX_LISTED_ERRORS),
            Severity::Warning => (&mut warnings, MAX_LISTED_WARNINGS),
        };
        *count += 1;
        if *count <= max {
            kept.push(problem);
        } else if problem.severity == Severity::Warning {
            dropped_all_unknown_fields &= matches!(problem.kind, ProblemKind::UnknownField(_));
        }
    }
    if errors > MAX_LISTED_ERRORS {
        let more = errors - MAX_LISTED_ERRORS;
        kept.push(Problem::error(
            ProblemKind::Note(format!(
                "... and {more} more errors (the first {MAX_LISTED_ERRORS} are listed)"
            )),
            None,
            Location::default().at_start(),
        ));
    }
    if warnings > MAX_LISTED_WARNINGS {
        let more = warnings - MAX_LISTED_WARNINGS;
        let what = if dropped_all_unknown_fields {
            "unknown fields are ignored"
        } else {
            "warnings"
        };
        kept.push(Problem::warning(
            ProblemKind::Note(format!(
                "... and {more} more {what} (the first {MAX_LISTED_WARNINGS} warnings are listed)"
            )),
            None,
            Location::default().at_start(),
        ));
    }
    kept
}

/// A manifest that cannot be loaded: every problem found, with the file's name and text (for
/// snippets).
///
/// Its `Display` is one problem per line, each `file:line:column (pointer): error: message`.
#[derive(Debug, Clone)]
pub struct ManifestError {
    /// The file name as given.
    pub file: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Every problem, errors and warnings, in file order where possible.
    pub problems: Vec<Problem>,
}

impl ManifestError {
    /// The problems that are errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.errors().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{problem}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestError {}
