//! One manifest across processes and machines, on timely-dataflow.
//!
//! The local process reads the input, writes the outputs and runs every node nothing forces
//! elsewhere; `pipeline worker`s run the rest. Nodes placed on one process run as segments on the
//! ordinary runtime (fusion, stages, `par`, Python nodes); only edges between processes cross
//! timely exchanges, in batches encoded with [`crate::value::wire`].

mod batch;
mod dataflow;
mod segment_thread;
mod segments;
mod sub_manifest;

pub use batch::{Batch, Target};
pub use dataflow::{
    run_process, Assignment, DataflowOptions, ProcessFailure, Role, RunSummary,
    DEFAULT_BATCH_ITEMS, DEFAULT_EPOCHS_IN_FLIGHT,
};
pub use segments::{Destination, Segment, SegmentEntry, Segmentation};

/// The timely-dataflow this module runs on (pinned), for callers that start its workers.
pub use timely;
