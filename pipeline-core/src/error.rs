//! The one error type of a running pipeline.
//!
//! Node code returns it, emitters pass it upstream, and the runtime stamps it with the id of the node
//! that raised it. It is one pointer wide, so `Result<(), Error>` costs nothing on the fused hot path.

use std::fmt;
use std::sync::Arc;

/// `Result` with the pipeline [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A node's `process` or `finish` failed.
    Node,
    /// A node's `initialize` failed; no item was processed.
    Initialize,
    /// A node's `cleanup` failed.
    Cleanup,
    /// A node panicked; the message is the panic payload.
    Panic,
    /// The pipeline was stopped by an earlier failure or a cancelled run and cannot run again.
    Stopped,
    /// An item could not be converted to the type a node accepts.
    Conversion,
    /// The graph or manifest is invalid.
    Graph,
    /// Reading input or writing output failed.
    Io,
    /// Running across processes failed: a bad hosts file or token, a worker that refused, was
    /// lost or fell silent, or a broken connection between processes.
    Cluster,
}

/// A pipeline error: what went wrong and, once the runtime has seen it, in which node.
///
/// ```
/// use pipeline_core::{Error, ErrorKind};
/// let err = Error::msg("division by zero").in_node("calc_1");
/// assert_eq!(err.node(), Some("calc_1"));
/// assert_eq!(err.kind(), ErrorKind::Node);
/// assert_eq!(err.to_string(), "node `calc_1`: division by zero");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    node: Option<Arc<str>>,
    /// The worker (`host:port`) the node ran on, in a run across processes.
    host: Option<Arc<str>>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// Items the pipeline had taken from its input when it stopped.
    items_accepted: Option<u64>,
    /// The input item (0-based, in the order the run was given them) the failure came from.
    failed_item: Option<u64>,
}

impl Error {
    /// A node failure with a message; the runtime adds the node id.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Node, message)
    }

    /// An error of a given kind.
    ///
    /// ```
    /// use pipeline_core::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::Io, "disk full").kind(), ErrorKind::Io);
    /// ```
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                node: None,
                host: None,
                message: message.to_string(),
                source: None,
                items_accepted: None,
                failed_item: None,
            }),
        }
    }

    /// Attributes the error to `node` unless a node downstream already claimed it.
    ///
    /// ```
    /// use pipeline_core::Error;
    /// let err = Error::msg("bad").in_node("inner").in_node("outer");
    /// assert_eq!(err.node(), Some("inner"));
    /// ```
    #[cold]
    pub fn in_node(mut self, node: &str) -> Self {
        if self.inner.node.is_none() {
            self.inner.node = Some(Arc::from(node));
        }
        self
    }

    /// Records the worker (`host:port`) where the failure happened, in a run across processes;
    /// a node's error then reads `node <id> on <host:port>: <message>`.
    ///
    /// ```
    /// use pipeline_core::Error;
    /// let err = Error::msg("bad").in_node("gpu").on_host("10.0.0.7:7001");
    /// assert_eq!(err.host(), Some("10.0.0.7:7001"));
    /// assert_eq!(err.to_string(), "node `gpu` on 10.0.0.7:7001: bad");
    /// ```
    #[cold]
    pub fn on_host(mut self, host: &str) -> Self {
        self.inner.host = Some(Arc::from(host));
        self
    }

    /// The worker (`host:port`) where the failure happened, when it was not this process.
    pub fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }

    /// Changes the kind (the runtime marks `initialize` and `cleanup` failures this way).
    ///
    /// ```
    /// use pipeline_core::{Error, ErrorKind};
    /// assert_eq!(Error::msg("x").with_kind(ErrorKind::Cleanup).kind(), ErrorKind::Cleanup);
    /// ```
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// Records how many items the pipeline had taken from its input when this error stopped it (the
    /// runtime does this; the items in flight between stages are among them).
    ///
    /// ```
    /// use pipeline_core::Error;
    /// let err = Error::msg("bad").with_items_accepted(41);
    /// assert_eq!(err.items_accepted(), Some(41));
    /// ```
    pub fn with_items_accepted(mut self, items: u64) -> Self {
        self.inner.items_accepted = Some(items);
        self
    }

    /// How many items the pipeline had taken from its input when this error stopped it: the
    /// outputs of a failed run cover at most these. `None` for errors not returned by a run.
    pub fn items_accepted(&self) -> Option<u64> {
        self.inner.items_accepted
    }

    /// Records which input item the failure came from (0-based, in the order the run was given
    /// its items), unless an inner layer already did; the runtime does this for dynamic stages.
    ///
    /// ```
    /// use pipeline_core::Error;
    /// let err = Error::msg("bad").with_failed_item(7).with_failed_item(9);
    /// assert_eq!(err.failed_item(), Some(7));
    /// ```
    #[cold]
    pub fn with_failed_item(mut self, item: u64) -> Self {
        self.inner.failed_item.get_or_insert(item);
        self
    }

    /// Which input item the failure came from: a 0-based index into the items the run was given
    /// (`pipeline run` turns it into the input line). Every output derived from the items before
    /// it was delivered; `None` when the runtime could not trace the failure to one item (a
    /// `pipeline!` stage thread, or a failure at the end of the stream).
    pub fn failed_item(&self) -> Option<u64> {
        self.inner.failed_item
    }

    /// The id of the node that failed, once known.
    pub fn node(&self) -> Option<&str> {
        self.inner.node.as_deref()
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message without the node prefix.
    ///
    /// ```
    /// use pipeline_core::Error;
    /// assert_eq!(Error::msg("bad").in_node("n").message(), "bad");
    /// ```
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The underlying error, if this one wraps another.
    pub fn source_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.inner.source.as_deref()
    }

    /// Builds an error from a panic payload caught by the runtime.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_string()
        };
        Error::new(ErrorKind::Panic, format_args!("panicked: {message}"))
    }
}

/// Of two failures, the one of the earlier input item: what a run item by item would have met
/// first. A failure no item is known for counts as later than one that names its item; between
/// two such, the first stays.
#[cfg(feature = "runtime")]
pub(crate) fn earlier(first: Option<Error>, next: Error) -> Error {
    match first {
        None => next,
        Some(first) => match (first.failed_item(), next.failed_item()) {
            (Some(a), Some(b)) if b < a => next,
            (None, Some(_)) => next,
            _ => first,
        },
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        Error {
            inner: Box::new(Inner {
                kind: ErrorKind::Node,
                node: None,
                host: None,
                message: err.to_string(),
                source: Some(Box::new(err)),
                items_accepted: None,
                failed_item: None,
            }),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.inner.node, &self.inner.host) {
            (Some(node), Some(host)) => {
                write!(f, "node `{node}` on {host}: {}", self.inner.message)
            }
            (Some(node), None) => write!(f, "node `{node}`: {}", self.inner.message),
            (None, _) => f.write_str(&self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `main` returning `Result<_, Error>` prints Debug: make it the readable form.
        write!(f, "{self} ({:?})", self.inner.kind)
    }
}

/// Like `anyhow::Error`, [`Error`] is not itself a `std::error::Error` (so that `?` converts any error
/// into it); it converts into a boxed one for callers that want that.
impl From<Error> for Box<dyn std::error::Error + Send + Sync + 'static> {
    fn from(err: Error) -> Self {
        Box::new(StdError(err))
    }
}

impl From<Error> for Box<dyn std::error::Error + 'static> {
    fn from(err: Error) -> Self {
        Box::new(StdError(err))
    }
}

/// [`Error`] seen as a `std::error::Error`.
///
/// ```
/// use pipeline_core::{error::StdError, Error};
/// let e: &dyn std::error::Error = &StdError(Error::msg("x"));
/// assert_eq!(e.to_string(), "x");
/// ```
#[derive(Debug)]
pub struct StdError(pub Error);

impl fmt::Display for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn from_panic_keeps_the_message() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        let err = Error::from_panic(caught).in_node("n");
        assert_eq!(err.kind(), ErrorKind::Panic);
        assert_eq!(err.to_string(), "node `n`: panicked: boom 7");
    }

    #[test]
    fn wrapped_errors_keep_their_source() {
        let io = std::io::Error::other("disk");
        let err: Error = io.into();
        assert!(err.source_error().is_some());
        assert_eq!(err.message(), "disk");
    }
}
