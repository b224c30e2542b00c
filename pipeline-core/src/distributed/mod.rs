//! One manifest across processes and machines, on timely-dataflow.
//!
//! The local process reads the input, writes the outputs and runs every node nothing forces
//! elsewhere; `pipeline worker`s run the rest. Nodes placed on one process run as segments on the
//! ordinary runtime (fusion, stages, `par`, Python nodes); only edges between processes cross
//! timely exchanges, in batches encoded with [`crate::value::wire`].
