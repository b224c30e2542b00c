//! Failures: sent to every process of a run so that all of them stop, and reported by each.

use super::shared::Shared;
use crate::error::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::{ProbeHandle, Scope};

/// A failure, sent to every process so that all of them stop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Failure {
    /// The process it is sent to.
    pub(super) to: u32,
    /// Where it happened.
    pub(super) process: u32,
    pub(super) node: Option<String>,
    pub(super) kind: FailureKind,
    pub(super) message: String,
}

/// [`ErrorKind`] on the wire.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) enum FailureKind {
    Node,
    Initialize,
    Cleanup,
    Panic,
    Conversion,
    Io,
    Other,
}

impl FailureKind {
    pub(super) fn of(kind: ErrorKind) -> FailureKind {
        match kind {
            ErrorKind::Node => FailureKind::Node,
            ErrorKind::Initialize => FailureKind::Initialize,
            ErrorKind::Cleanup => FailureKind::Cleanup,
            ErrorKind::Panic => FailureKind::Panic,
            ErrorKind::Conversion => FailureKind::Conversion,
            ErrorKind::Io => FailureKind::Io,
            _ => FailureKind::Other,
        }
    }

    fn kind(self) -> ErrorKind {
        match self {
            FailureKind::Node => ErrorKind::Node,
            FailureKind::Initialize => ErrorKind::Initialize,
            FailureKind::Cleanup => ErrorKind::Cleanup,
            FailureKind::Panic => ErrorKind::Panic,
            FailureKind::Conversion => ErrorKind::Conversion,
            FailureKind::Io => ErrorKind::Io,
            FailureKind::Other => ErrorKind::Stopped,
        }
    }
}

impl Failure {
    /// The error another process reports for this failure: the node's, saying where it ran,
    /// with a [`ProcessFailure`] as its source.
    pub(super) fn error(&self) -> Error {
        let err = Error::from(ProcessFailure {
            process: self.process as usize,
            node: self.node.clone(),
            message: self.message.clone(),
        })
        .with_kind(self.kind.kind());
        match &self.node {
            Some(node) => err.in_node(node),
            None => err,
        }
    }
}

/// A failure on another process of the run, as [`run_process`](super::run_process) reports it (the source of its
/// error): which process, which node, what it said — for a caller that names the host.
///
/// ```
/// use pipeline_core::distributed::ProcessFailure;
/// let failure = ProcessFailure { process: 2, node: Some("div".into()), message: "division by zero".into() };
/// assert_eq!(failure.to_string(), "on process 2: division by zero");
/// let err = pipeline_core::Error::from(failure.clone()).in_node("div");
/// let source = err.source_error().and_then(|e| e.downcast_ref::<ProcessFailure>());
/// assert_eq!(source, Some(&failure));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFailure {
    /// The process it happened on (0 the local one, 1.. the workers).
    pub process: usize,
    /// The node that failed, when a node did.
    pub node: Option<String>,
    /// What failed, without the node.
    pub message: String,
}

impl std::fmt::Display for ProcessFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "on process {}: {}", self.process, self.message)
    }
}

impl std::error::Error for ProcessFailure {}

/// The failure stream: each process's failures go to every process, which then stops. The
/// source holds its capability until the data is complete, so a failure raised at the last
/// moment still reaches everyone.
pub(super) fn failure_operators<'scope>(
    scope: Scope<'scope, u64>,
    me: usize,
    peers: usize,
    probe: &ProbeHandle<u64>,
    shared: Rc<Shared>,
) {
    let data = probe.clone();
    let sender = Rc::clone(&shared);
    let failures = source(scope, "failures", move |capability, info| {
        *sender.failure_source.borrow_mut() = Some(scope.activator_for(info.address));
        let mut capability = Some(capability);
        move |output| {
            if let Some(cap) = &capability {
                let outgoing: Vec<Failure> = sender.outgoing.borrow_mut().drain(..).collect();
                let mut session = output.session(cap);
                for failure in outgoing {
                    for to in 0..peers {
                        session.give(Failure {
                            to: to as u32,
                            ..failure.clone()
                        });
                    }
                }
            }
            if data.done() && sender.outgoing.borrow().is_empty() {
                capability = None;
            }
        }
    });
    let exchange = Exchange::new(|f: &Failure| u64::from(f.to));
    failures.sink(exchange, "failures received", move |(input, _frontier)| {
        input.for_each(|_, data| {
            for failure in data.drain(..) {
                if failure.process as usize != me {
                    shared.received.borrow_mut().push(failure);
                }
                shared.abort();
            }
        });
    });
}
