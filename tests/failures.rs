//! Failures: the first error stops the run and names its node; initialisation failures stop
//! before any item; cleanup runs for what was initialised; no stage thread outlives `run`.

mod support;

use pipeline::prelude::*;
use support::{Log, Probe};

#[test]
fn fused_node_error_names_the_node_and_stops_the_run() {
    let log = Log::default();
    let mut p = pipeline! {
        first = Probe::new("first", &log);
        picky = Probe::new("picky", &log).failing_on(3);
        input -> first -> picky -> output;
    };
    let err = p.run(0..10).unwrap_err();
    assert_eq!(err.node(), Some("picky"));
    assert_eq!(err.kind(), ErrorKind::Node);
    assert_eq!(err.to_string(), "node `picky`: refused 3");
    // Nothing after the failing item was processed.
    assert!(log.has("first:process 3"));
    assert!(!log.has("first:process 4"));
    // The pipeline is stopped for good, and says why.
    let again = p.run(0..1).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Stopped);
    assert!(again.to_string().contains("refused 3"), "{again}");
    // Stopping cleaned the nodes up.
    assert!(log.has("first:cleanup") && log.has("picky:cleanup"));
}

#[test]
fn worker_stage_error_names_the_node_and_joins_every_thread() {
    let log = Log::default();
    let mut p = pipeline! {
        head = Probe::new("head", &log);
        middle = Probe::new("middle", &log).failing_on(2_000);
        tail = Probe::new("tail", &log);
        input -> head => middle => tail -> output;
    };
    let err = p.run(0..1_000_000).unwrap_err();
    assert_eq!(err.node(), Some("middle"));
    assert_eq!(err.message(), "refused 2000");
    // The failing stage ran on its own thread.
    assert!(
        log.has("middle:init on pipeline:middle"),
        "{:?}",
        log.events()
    );
    // The caller stopped feeding soon after (bounded channels), far before the end.
    assert!(!log.has("head:process 999999"));
    // `run` returned only after the stage threads ended: their nodes were cleaned up and
    // dropped (each drop takes 50 ms, so an unjoined thread would not have logged it yet).
    for node in ["middle", "tail"] {
        assert!(
            log.has(&format!("{node}:cleanup")),
            "{node} not cleaned up: {:?}",
            log.events()
        );
        assert!(
            log.has(&format!("{node}:drop")),
            "{node}'s thread not joined: {:?}",
            log.events()
        );
    }
    assert!(log.has("head:cleanup"));
}

#[test]
fn initialize_error_stops_before_any_item_and_cleans_up_what_was_initialised() {
    let log = Log::default();
    let mut p = pipeline! {
        a = Probe::new("a", &log);
        b = Probe::new("b", &log).failing_init();
        c = Probe::new("c", &log);
        input -> a -> b -> c -> output;
    };
    let err = p.run(0..10).unwrap_err();
    assert_eq!(err.node(), Some("b"));
    assert_eq!(err.kind(), ErrorKind::Initialize);
    assert_eq!(
        log.count_prefix("a:process") + log.count_prefix("c:process"),
        0
    );
    // `a` was initialised, so it is cleaned up; `b` failed and `c` never started: neither is.
    assert!(log.has("a:cleanup"), "{:?}", log.events());
    assert!(
        !log.has("b:cleanup") && !log.has("c:cleanup"),
        "{:?}",
        log.events()
    );
    assert!(!log.events().iter().any(|e| e.starts_with("c:init")));
}

#[test]
fn initialize_error_in_a_worker_stage_cleans_up_the_other_stages() {
    let log = Log::default();
    let mut p = pipeline! {
        head = Probe::new("head", &log);
        ok = Probe::new("ok", &log);
        broken = Probe::new("broken", &log).failing_init();
        input -> head => ok => broken -> output;
    };
    let err = p.run(0..10).unwrap_err();
    assert_eq!(err.node(), Some("broken"));
    assert_eq!(err.kind(), ErrorKind::Initialize);
    assert_eq!(
        log.count_prefix("head:process") + log.count_prefix("ok:process"),
        0
    );
    assert!(
        log.has("head:cleanup") && log.has("ok:cleanup"),
        "{:?}",
        log.events()
    );
    assert!(!log.has("broken:cleanup"));
    // Every stage thread was joined before `run` returned.
    assert!(
        log.has("ok:drop") && log.has("broken:drop"),
        "{:?}",
        log.events()
    );
}

#[test]
fn panics_become_errors_naming_the_stage() {
    let mut p = pipeline! {
        boom = Map::new(|x: i64| if x == 5 { panic!("five") } else { x });
        input => boom -> output;
    };
    let err = p.run(0..10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(err.node(), Some("boom"));
    assert!(err.message().contains("five"), "{err}");
}

#[test]
fn dropping_the_pipeline_joins_its_threads_and_cleans_up() {
    let log = Log::default();
    {
        let mut p = pipeline! {
            a = Probe::new("a", &log);
            b = Probe::new("b", &log);
            input => a => b -> output;
        };
        assert_eq!(p.run(0..3).unwrap(), vec![0, 1, 2]);
        // Threads live between runs.
        assert!(!log.has("a:drop"));
    }
    for node in ["a", "b"] {
        assert!(log.has(&format!("{node}:cleanup")), "{:?}", log.events());
        assert!(
            log.has(&format!("{node}:drop")),
            "{node}'s thread not joined"
        );
    }
}

#[test]
fn dropping_a_fused_pipeline_cleans_up_what_it_initialised() {
    // A fused pipeline starts no threads and no channels: dropping it still cleans its nodes up
    // once, and one never run was never initialised, so it has nothing to clean up.
    let log = Log::default();
    {
        let mut p = pipeline! {
            a = Probe::new("a", &log);
            b = Probe::new("b", &log);
            input -> a -> b -> output;
        };
        assert_eq!(p.run(0..3).unwrap(), vec![0, 1, 2]);
        assert_eq!(p.run(3..4).unwrap(), vec![3]);
    }
    for node in ["a", "b"] {
        assert_eq!(
            log.count_prefix(&format!("{node}:init")),
            1,
            "{:?}",
            log.events()
        );
        assert_eq!(
            log.count_prefix(&format!("{node}:cleanup")),
            1,
            "{:?}",
            log.events()
        );
    }
    let never_run = Log::default();
    drop(pipeline! {
        c = Probe::new("c", &never_run);
        input -> c -> output;
    });
    assert!(
        !never_run.has("c:init") && !never_run.has("c:cleanup"),
        "{:?}",
        never_run.events()
    );
}

#[test]
fn close_reports_cleanup_and_joins() {
    let log = Log::default();
    let mut p = pipeline! {
        a = Probe::new("a", &log);
        input => a -> output;
    };
    p.run(0..3).unwrap();
    p.close().unwrap();
    assert!(log.has("a:cleanup") && log.has("a:drop"));
    assert_eq!(
        log.count_prefix("a:init"),
        1,
        "initialised once for every run"
    );
}
