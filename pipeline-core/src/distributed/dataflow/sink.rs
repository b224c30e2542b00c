//! Process 0's end of the outputs: batches for the outputs, decoded and handed to the sink.

use super::local::LocalSink;
use super::shared::Shared;
use super::RunSummary;
use crate::distributed::batch::{Batch, Target};
use crate::distributed::segments::Segmentation;
use crate::Value;
use std::collections::BTreeMap;
use std::rc::Rc;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::{Operator, OutputBuilderSession};
use timely::dataflow::operators::Capability;
use timely::dataflow::Stream;

/// Hands every output that arrived to `sink`; a failing sink fails the run.
pub(super) fn deliver(
    shared: &Shared,
    sink: &mut dyn LocalSink,
    summary: &mut RunSummary,
    me: usize,
) {
    loop {
        let next = shared.delivered.borrow_mut().pop_front();
        let Some((output, values)) = next else { break };
        for value in values {
            if shared.local_error.borrow().is_some() {
                break;
            }
            match sink.write(output, value) {
                Ok(()) => summary.items_written += 1,
                Err(err) => shared.fail(me, err),
            }
        }
    }
}

/// Output items in arrival order, with their output index.
pub(super) type Delivered = (usize, Vec<Value>);

/// Process 0's end of the outputs: items go to the sink in arrival order, or epoch by epoch for
/// an output fed by a spread segment.
pub(super) fn sink_operator<'scope>(
    outputs: Stream<'scope, u64, Vec<Batch>>,
    me: usize,
    split: Rc<Segmentation>,
    shared: Rc<Shared>,
) -> Stream<'scope, u64, Vec<()>> {
    let exchange = Exchange::new(|b: &Batch| u64::from(b.process));
    outputs.unary_frontier(exchange, "outputs", move |capability, _info| {
        drop(capability);
        let mut stash: BTreeMap<u64, (Capability<u64>, Vec<Delivered>)> = BTreeMap::new();
        move |(input, frontier), _output: &mut OutputBuilderSession<'_, u64, CapacityContainerBuilder<Vec<()>>>| {
            let mut failure = None;
            input.for_each(|cap, data| {
                for batch in data.drain(..) {
                    let Target::Output(o) = batch.target else { continue };
                    let o = o as usize;
                    let values = match batch.into_values() {
                        Ok(values) => values,
                        Err(err) => {
                            failure.get_or_insert(err);
                            continue;
                        }
                    };
                    if split.reorder_output.get(o).copied().unwrap_or(false) {
                        let Some(cap) = cap.retain_least(0) else { continue };
                        let time = *cap.time();
                        let entry = stash.entry(time).or_insert_with(|| (cap, Vec::new()));
                        entry.1.push((o, values));
                    } else {
                        shared.delivered.borrow_mut().push_back((o, values));
                    }
                }
            });
            if let Some(err) = failure {
                shared.fail(me, err);
            }
            while let Some(entry) = stash.first_entry() {
                if frontier.less_equal(entry.key()) {
                    break;
                }
                let (_cap, values) = entry.remove();
                shared.delivered.borrow_mut().extend(values);
            }
        }
    })
}
