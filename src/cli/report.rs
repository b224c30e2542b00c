//! Diagnostics on stderr: manifest problems as miette reports with the offending snippet.

use super::CliError;
use miette::{Diagnostic, LabeledSpan, NamedSource, Severity as MietteSeverity, SourceCode};
use pipeline::manifest::{ManifestError, Problem, Severity};
use std::fmt;
use std::sync::Arc;

/// One manifest problem as a miette diagnostic.
struct ProblemReport {
    message: String,
    severity: Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    /// The manifest, shared (not copied per problem); `None` when the problem's line is too long
    /// to show.
    source: Option<NamedSource<Arc<str>>>,
}

/// The longest line shown as a snippet: a generated manifest is often one line of megabytes, and
/// drawing it under every problem wrote megabytes per problem (the message has line and column).
const MAX_SNIPPET_LINE_BYTES: usize = 400;

/// Whether the line(s) around `offset` are short enough to show.
fn snippet_fits(text: &str, offset: usize) -> bool {
    let offset = offset.min(text.len());
    let start = text.as_bytes()[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = text.as_bytes()[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| offset + i);
    end - start <= MAX_SNIPPET_LINE_BYTES
}

impl ProblemReport {
    fn new(file: &str, text: &Arc<str>, problem: &Problem) -> Self {
        let loc = &problem.location;
        let pointer = if loc.pointer.is_empty() {
            "/"
        } else {
            &loc.pointer
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(format!("at {pointer}")),
            (loc.offset, loc.len),
        )];
        labels.extend(
            problem
                .related
                .iter()
                .map(|(l, note)| LabeledSpan::new_with_span(Some(note.clone()), (l.offset, l.len))),
        );
        ProblemReport {
            message: format!(
                "{} ({file}:{}:{} at {pointer})",
                problem.message(),
                loc.line,
                loc.column
            ),
            severity: problem.severity,
            help: problem.help.clone(),
            labels,
            source: snippet_fits(text, loc.offset)
                .then(|| NamedSource::new(file, Arc::clone(text))),
        }
    }
}

impl fmt::Debug for ProblemReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for ProblemReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProblemReport {}

impl Diagnostic for ProblemReport {
    fn severity(&self) -> Option<MietteSeverity> {
        Some(match self.severity {
            Severity::Error => MietteSeverity::Error,
            Severity::Warning => MietteSeverity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Makes reports readable by scripts when stderr is not a terminal: one message per line, unwrapped.
pub fn install_handler() {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        let _ = miette::set_hook(Box::new(|_| {
            Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
        }));
    }
}

/// Writes a line to stderr; unlike `eprintln!`, a closed or full stderr is not a panic (there is
/// nowhere left to report it, so it is ignored).
pub fn stderr_line(line: fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Prints every problem of `err` (errors and warnings).
pub fn manifest_problems(err: &ManifestError) {
    warnings(&err.file, &err.text, &err.problems);
}

/// Prints warnings of a manifest that loaded (or any problems), each rendered whole and then
/// written at once: stderr is unbuffered, and miette writes a character at a time.
pub fn warnings(file: &str, text: &Arc<str>, problems: &[Problem]) {
    for problem in problems {
        let rendered = format!(
            "{:?}",
            miette::Report::new(ProblemReport::new(file, text, problem))
        );
        stderr_line(format_args!("{rendered}"));
    }
}

/// Prints a command's error.
pub fn error(err: &CliError) {
    match err {
        CliError::Manifest(err) => manifest_problems(err),
        other => stderr_line(format_args!("error: {other}")),
    }
}
