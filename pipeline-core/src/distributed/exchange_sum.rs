//! A small real dataflow that proves a mesh: every process sends numbers, each is routed to the
//! process its value picks, checked there, and all of them are summed on process 0. It stands
//! in for the manifest dataflow until that is joined, and stays as a self-test of a cluster.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
use timely::dataflow::InputHandle;
use timely::worker::Worker;

/// The mesh self-test's parameters.
///
/// In round `r`, process `p` of `P` sends `per_round` numbers `(r * per_round + i) * P + p`; so
/// together they send `0 .. rounds * per_round * P`, each once, and process 0's sum is known.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeSum {
    /// Rounds (timely epochs); every process waits for each round to complete.
    pub rounds: u64,
    /// Numbers each process sends per round.
    pub per_round: u64,
    /// Pause of every worker (not process 0) after each of its rounds: makes a run last.
    pub delay_ms: u64,
    /// The number that node `check` refuses (a node error on the process it is routed to).
    pub fail_on: Option<u64>,
}

impl ExchangeSum {
    /// What process 0's sum must be with `processes` processes.
    pub fn expected(&self, processes: u64) -> u64 {
        let count = self.rounds * self.per_round * processes;
        count * count.saturating_sub(1) / 2
    }

    /// This process's part; process 0 returns the sum, the others 0.
    pub fn run(&self, worker: &mut Worker) -> Result<u64> {
        let index = worker.index() as u64;
        let processes = worker.peers() as u64;
        let failure: Rc<RefCell<Option<Error>>> = Rc::default();
        let total: Rc<Cell<u64>> = Rc::default();
        let mut input = InputHandle::new();
        let (fail_on, failed, sum) = (self.fail_on, failure.clone(), total.clone());
        let probe = worker.dataflow::<u64, _, _>(|scope| {
            scope
                .input_from(&mut input)
                .container::<Vec<u64>>()
                .exchange(|n| *n)
                .inspect(move |n| {
                    if Some(*n) == fail_on {
                        failed.borrow_mut().get_or_insert_with(|| {
                            Error::msg(format_args!("refused the number {n}")).in_node("check")
                        });
                    }
                })
                .exchange(|_| 0)
                .inspect(move |n| sum.set(sum.get().wrapping_add(*n)))
                .probe()
                .0
        });
        let failed = || failure.borrow_mut().take();
        for round in 0..self.rounds {
            for i in 0..self.per_round {
                input.send((round * self.per_round + i) * processes + index);
            }
            input.advance_to(round + 1);
            if index != 0 && self.delay_ms > 0 {
                std::thread::sleep(Duration::from_millis(self.delay_ms));
            }
            while probe.less_than(input.time()) {
                worker.step_or_park(Some(Duration::from_millis(1)));
                if let Some(err) = failed() {
                    return Err(err);
                }
            }
        }
        input.close();
        while !probe.done() {
            worker.step_or_park(Some(Duration::from_millis(1)));
        }
        match failed() {
            Some(err) => Err(err),
            None => Ok(total.get()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_threads(job: ExchangeSum, threads: usize) -> Vec<Result<u64, String>> {
        timely::execute(timely::Config::process(threads), move |worker| {
            job.run(worker).map_err(|e| e.to_string())
        })
        .unwrap()
        .join()
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
    }

    #[test]
    fn process_zero_sums_every_number_once() {
        let job = ExchangeSum {
            rounds: 4,
            per_round: 5,
            delay_ms: 0,
            fail_on: None,
        };
        let results = in_threads(job.clone(), 3);
        assert_eq!(results[0], Ok(job.expected(3)));
        assert_eq!(job.expected(3), 59 * 60 / 2);
        assert_eq!(results[1], Ok(0));
    }
}
