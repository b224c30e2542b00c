//! The CLI's panic hook: a panic the runtime catches (inside a node, or inside RustPython) is
//! reported once, as the error naming the node, not first as `thread '...' panicked at ...` and
//! a backtrace.
//!
//! The hook runs before unwinding and cannot know whether the panic will be caught, so it prints
//! nothing and keeps what the default hook would have shown (message, place, backtrace when
//! `RUST_BACKTRACE` asks for one) for the thread. The runtime catches every panic of a node or a
//! stage thread and turns it into an error carrying the panic message; one that escapes to `main`
//! is a bug in `pipeline`, and [`report_uncaught`] prints what was kept as an internal error.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::io::Write;
use std::process::ExitCode;

/// The exit status of an internal error, as Rust's own for an uncaught panic.
pub const INTERNAL_ERROR_STATUS: u8 = 101;

/// What the default hook would have printed about the last panic on this thread.
struct PanicRecord {
    message: String,
    location: String,
    thread: String,
    backtrace: Backtrace,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<PanicRecord>> = const { RefCell::new(None) };
}

/// Replaces the default hook (see the module docs).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let record = PanicRecord {
            message: payload_message(info.payload()),
            location: info
                .location()
                .map_or_else(|| "an unknown place".to_string(), ToString::to_string),
            thread: std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_string(),
            backtrace: Backtrace::capture(),
        };
        let _ = LAST_PANIC.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = Some(record);
            }
        });
    }));
}

/// The text a panic was raised with.
fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// The text of an uncaught panic's report.
fn internal_error_text(payload: &(dyn Any + Send)) -> String {
    let record = LAST_PANIC
        .try_with(|last| last.try_borrow_mut().ok()?.take())
        .ok()
        .flatten();
    let mut text = format!(
        "internal error: {}",
        record
            .as_ref()
            .map_or_else(|| payload_message(payload), |r| r.message.clone())
    );
    if let Some(record) = &record {
        text += &format!(" (at {}, thread `{}`)", record.location, record.thread);
    }
    text += "\nthis is a bug in pipeline; please report it with the command that caused it";
    match record.as_ref().map(|r| &r.backtrace) {
        Some(backtrace) if backtrace.status() == BacktraceStatus::Captured => {
            text += &format!("\nbacktrace:\n{backtrace}");
        }
        _ => text += "\n(run with RUST_BACKTRACE=1 for a backtrace)",
    }
    text
}

/// Reports a panic that reached `main` as an internal error on stderr; returns the exit status.
pub fn report_uncaught(payload: &(dyn Any + Send)) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{}", internal_error_text(payload));
    ExitCode::from(INTERNAL_ERROR_STATUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncaught_panic_is_reported_with_its_message_and_place() {
        install();
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        let text = internal_error_text(&*payload);
        assert!(text.starts_with("internal error: boom 7 (at "), "{text}");
        assert!(text.contains("panic_hook.rs"), "{text}");
        assert!(text.contains("please report"), "{text}");
        let _ = std::panic::take_hook();
    }
}
