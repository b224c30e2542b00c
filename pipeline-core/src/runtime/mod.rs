//! The runtime: runs a planned graph on the caller's thread (stage 0) and one persistent thread per
//! further stage, joined by bounded crossbeam channels that carry batches.
//!
//! Generated code (`pipeline!`) and the dynamic loader both produce [`Stage`]s and hand them to a
//! [`Pipeline`]; the runtime knows nothing of how a stage was built.
//!
//! What a pipeline author names is documented here: [`Pipeline`] (what `pipeline!` returns),
//! [`Handle`] (a stream in progress), [`Stage`] and [`Outputs`] (to write a pipeline's type in a
//! signature), [`Parallel`], [`StageConfig`] and the defaults. The rest is support that generated
//! code and the dynamic loader call (stage closures and type markers, channels, workers, panic
//! sites): public because `pipeline!` expands in the user's crate, `#[doc(hidden)]` because it is
//! not meant to be written by hand and may change with the code generator.

mod channel;
mod drain_each;
mod fn_stage;
mod handle;
mod input_default;
mod outputs;
mod panic_site;
mod parallel;
pub(crate) mod parallel_batch;
mod pipeline;
mod pure_line;
mod relief;
pub(crate) mod spares;
mod stage;
mod vec_writer;
mod worker;

#[doc(hidden)]
pub use channel::{stage_channel, BatchSender, Message, StageReceiver};
#[doc(hidden)]
pub use drain_each::drain_each;
#[doc(hidden)]
pub use fn_stage::{emitter, input_marker, marker_of, output_marker, FnStage, Lifecycle, Marker};
pub use handle::Handle;
#[doc(hidden)]
pub use input_default::{default_input, pipeline_input, stage_input, InputDefault};
pub use outputs::Outputs;
#[doc(hidden)]
pub use panic_site::{take_panic_site, PanicSite};
pub use parallel::Parallel;
pub use pipeline::Pipeline;
#[doc(hidden)]
pub use pure_line::{drop_free, run_pure_line};
pub use stage::{Stage, StageConfig};
#[doc(hidden)]
pub use vec_writer::VecWriter;
#[doc(hidden)]
pub use worker::{Launch, Worker};

/// Items per batch of a parallel node, and the first batch a stage boundary sends in a stream.
///
/// Measured on these machines: a crossbeam send costs 21–33 ns per single item but ~3 ns per item in
/// batches of 1024.
pub const DEFAULT_BATCH_SIZE: usize = 1024;

/// The largest batch a stage boundary grows to unless a stage says otherwise: batches start at
/// [`DEFAULT_BATCH_SIZE`] and double while the stream keeps filling them (see [`BatchSender`]).
///
/// Measured on these machines (`pipeline bench`, `throughput/static_threaded`: a million items
/// through three `=>` stages on two cores): with batches of 1024, most of the time went to waking
/// threads for each batch (21.5 M items/s); batches growing to 16384 items (128 KiB of `i64`), with
/// one-node stages taking them whole, ran at 53–58 M items/s in runs where everything else was
/// 1.5× slower, and at up to 200 M items/s in a quiet minute.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 16384;

/// Batches a stage channel holds before the sender waits (backpressure).
pub const DEFAULT_CHANNEL_CAPACITY: usize = 4;
