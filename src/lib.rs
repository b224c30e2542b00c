//! placeholder
pub use pipeline_core::*;
