//! The streaming `Handle`: items in one at a time, outputs out as they are ready, end of stream
//! on `finish`; dropping it cancels the stream and joins the threads.

mod support;

use pipeline::prelude::*;
use std::time::{Duration, Instant};
use support::{Log, Probe};

/// Polls `try_next` until `n` outputs came, or gives up after a generous deadline.
fn take<H, C>(stream: &mut pipeline::runtime::Handle<'_, H, C>, n: usize) -> Vec<H::Output>
where
    H: pipeline::runtime::Stage,
    C: pipeline::runtime::Outputs<Item = H::Output>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        match stream.try_next().unwrap() {
            Some(item) => got.push(item),
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    got
}

#[test]
fn push_flush_try_next_finish() {
    let mut p = pipeline! {
        double = Map::new(|x: i64| x * 2);
        count = Count::new();
        input => double -> output.doubled;
        input -> count -> output.count;
    };
    let mut stream = p.start().unwrap();
    stream.push(1).unwrap();
    stream.push(2).unwrap();
    // Items wait in the boundary's batch until it fills or is flushed.
    stream.flush().unwrap();
    let early = take(&mut stream, 2);
    assert_eq!(
        early.len(),
        2,
        "flushed items reach the output while the stream is open"
    );
    stream.push(3).unwrap();
    let rest = stream.finish().unwrap();
    // What was taken early is not returned again; the count arrives at the end of the stream.
    assert_eq!(rest.doubled, vec![6]);
    assert_eq!(rest.count, vec![3]);
    // The pipeline can stream again.
    let mut stream = p.start().unwrap();
    stream.push(10).unwrap();
    let rest = stream.finish().unwrap();
    assert_eq!((rest.doubled, rest.count), (vec![20], vec![1]));
}

#[test]
fn fused_outputs_are_ready_immediately() {
    let mut p = pipeline! {
        inc = Calculator::add(1);
        input -> inc -> output;
    };
    let mut stream = p.start().unwrap();
    stream.push(41_i64).unwrap();
    assert_eq!(stream.try_next().unwrap(), Some(42));
    assert_eq!(stream.try_next().unwrap(), None);
    assert_eq!(stream.finish().unwrap(), Vec::<i64>::new());
}

#[test]
fn a_streaming_error_names_the_node() {
    let log = Log::default();
    let mut p = pipeline! {
        picky = Probe::new("picky", &log).failing_on(7);
        input => picky -> output;
    };
    let mut stream = p.start().unwrap();
    for x in 0..10 {
        stream.push(x).unwrap();
    }
    let err = stream.finish().unwrap_err();
    assert_eq!(err.node(), Some("picky"));
    assert!(log.has("picky:drop"), "the stage thread was joined");
}

#[test]
fn dropping_a_handle_cancels_and_joins() {
    let log = Log::default();
    let mut p = pipeline! {
        a = Probe::new("a", &log);
        b = Probe::new("b", &log);
        input => a => b -> output;
    };
    {
        let mut stream = p.start().unwrap();
        for x in 0..100 {
            stream.push(x).unwrap();
        }
        // dropped without finish
    }
    for node in ["a", "b"] {
        assert!(log.has(&format!("{node}:cleanup")), "{:?}", log.events());
        assert!(
            log.has(&format!("{node}:drop")),
            "{node}'s thread not joined"
        );
    }
    let err = p.run(0..1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stopped);
}

#[test]
fn threads_start_once_per_pipeline_not_per_run_or_stream() {
    let log = Log::default();
    let mut p = pipeline! {
        a = Probe::new("a", &log);
        input => a -> output;
    };
    for _ in 0..3 {
        assert_eq!(p.run(0..2000).unwrap().len(), 2000);
        let mut stream = p.start().unwrap();
        stream.push(1).unwrap();
        assert_eq!(stream.finish().unwrap(), vec![1]);
    }
    assert_eq!(log.count_prefix("a:init"), 1);
}
