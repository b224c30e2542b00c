//! Diagnostics on stderr: manifest problems as miette reports with the offending snippet.

use super::CliError;
use miette::{Diagnostic, LabeledSpan, NamedSource, Severity as MietteSeverity, SourceCode};
use pipeline::manifest::{ManifestError, Problem, Severity};
use std::fmt;

/// One manifest problem as a miette diagnostic.
struct ProblemReport {
    message: String,
    severity: Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: NamedSource<String>,
}

impl ProblemReport {
    fn new(file: &str, text: &str, problem: &Problem) -> Self {
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
            source: NamedSource::new(file, text.to_string()),
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
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
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

/// Prints warnings of a manifest that loaded.
pub fn warnings(file: &str, text: &str, problems: &[Problem]) {
    for problem in problems {
        stderr_line(format_args!(
            "{:?}",
            miette::Report::new(ProblemReport::new(file, text, problem))
        ));
    }
}

/// Prints a command's error.
pub fn error(err: &CliError) {
    match err {
        CliError::Manifest(err) => manifest_problems(err),
        other => stderr_line(format_args!("error: {other}")),
    }
}
