//! What the operators of one process share with its run loop.

use super::failure::{Failure, FailureKind};
use super::sink::Delivered;
use crate::distributed::node_stats::NodeFigures;
use crate::distributed::segment_thread::SegmentThread;
use crate::error::Error;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use timely::scheduling::Activator;

/// What the operators of one process share with its run loop.
#[derive(Default)]
pub(super) struct Shared {
    /// This process's first failure.
    pub(super) local_error: RefCell<Option<Error>>,
    /// Failures to send to every process.
    pub(super) outgoing: RefCell<Vec<Failure>>,
    /// Failures received (this process's own included).
    pub(super) received: RefCell<Vec<Failure>>,
    /// Set once a failure is known here: segments drop their work, the input stops.
    pub(super) aborted: Cell<bool>,
    /// Outputs for the sink (process 0).
    pub(super) delivered: RefCell<VecDeque<Delivered>>,
    /// Wakes the failure source.
    pub(super) failure_source: RefCell<Option<Activator>>,
    /// Wakes each segment operator (to drop its work on an abort).
    pub(super) segment_operators: RefCell<Vec<Activator>>,
    /// Segment threads to join at the end.
    pub(super) threads: RefCell<Vec<SegmentThread>>,
    /// Per-node counters of the segments that ended here.
    pub(super) node_stats: RefCell<Vec<NodeFigures>>,
}

impl Shared {
    /// Records `err`, raised on this process, to be sent to every process.
    pub(super) fn fail(&self, process: usize, err: Error) {
        self.outgoing.borrow_mut().push(Failure {
            to: 0,
            process: process as u32,
            node: err.node().map(str::to_string),
            kind: FailureKind::of(err.kind()),
            message: err.message().to_string(),
        });
        self.local_error.borrow_mut().get_or_insert(err);
        self.abort();
        if let Some(activator) = &*self.failure_source.borrow() {
            activator.activate();
        }
    }

    pub(super) fn abort(&self) {
        if !self.aborted.replace(true) {
            for activator in self.segment_operators.borrow().iter() {
                activator.activate();
            }
        }
    }
}
