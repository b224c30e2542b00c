//! Test nodes that record what the runtime does to them.

#![allow(dead_code)] // each test file uses a part

pub mod cli;
pub mod random_dag;
pub mod workers;

use pipeline::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A shared, ordered log of lifecycle events ("a:init", "a:process 3", "a:cleanup", "a:drop").
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, event: String) {
        self.0.lock().unwrap().push(event);
    }
    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn has(&self, event: &str) -> bool {
        self.events().iter().any(|e| e == event)
    }
    pub fn count_prefix(&self, prefix: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| e.starts_with(prefix))
            .count()
    }
}

/// A pass-through `i64` node that logs its lifecycle, and fails where told to.
///
/// Its `Drop` waits a little before logging "drop": if the runtime returned without joining the
/// thread that owns the node, the event is not there yet when the test looks, so a missing join
/// fails the test instead of passing by luck.
#[derive(Clone)]
pub struct Probe {
    pub name: &'static str,
    pub log: Log,
    pub fail_on: Option<i64>,
    pub fail_init: bool,
}

impl Probe {
    pub fn new(name: &'static str, log: &Log) -> Self {
        Probe {
            name,
            log: log.clone(),
            fail_on: None,
            fail_init: false,
        }
    }
    pub fn failing_on(mut self, item: i64) -> Self {
        self.fail_on = Some(item);
        self
    }
    pub fn failing_init(mut self) -> Self {
        self.fail_init = true;
        self
    }
}

impl Node for Probe {
    type Input = i64;
    type Output = i64;

    fn initialize(&mut self, ctx: &NodeContext<'_>) -> Result<()> {
        assert_eq!(ctx.id(), self.name, "the context carries the node's id");
        if self.fail_init {
            self.log.push(format!("{}:init failed", self.name));
            return Err(Error::msg("cannot initialise"));
        }
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        self.log.push(format!("{}:init on {thread}", self.name));
        Ok(())
    }

    fn process<E: Emitter<i64> + ?Sized>(&mut self, item: i64, out: &mut E) -> Result<()> {
        self.log.push(format!("{}:process {item}", self.name));
        if self.fail_on == Some(item) {
            return Err(Error::msg(format!("refused {item}")));
        }
        out.emit(item)
    }

    fn cleanup(&mut self) -> Result<()> {
        self.log.push(format!("{}:cleanup", self.name));
        Ok(())
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(50));
        self.log.push(format!("{}:drop", self.name));
    }
}
