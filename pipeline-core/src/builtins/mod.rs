//! Built-in nodes, typed. Each serves static graphs directly and dynamic graphs through
//! [`Value`](crate::Value) items.

mod batch;
mod calculator;
mod count;
mod echo;
mod filter;
mod inspect;
mod map;
mod merge;
mod on_values;
mod partition;
mod pass_through;
mod route;
mod sum;
mod unbatch;
mod value_arithmetic;

pub use batch::Batch;
pub use calculator::{ops, Arithmetic, Calculator, Operation, OperationKind};
pub use count::Count;
pub use echo::Echo;
pub use filter::Filter;
pub use inspect::Inspect;
pub use map::Map;
pub use merge::Merge;
pub use on_values::OnValues;
pub use partition::{Partition, Partitioned};
pub use pass_through::PassThrough;
pub use route::{Route, RouteAs, Routed};
pub use sum::Sum;
pub use unbatch::Unbatch;
