//! Outputs survive the worker's death: a worker buffers a batch's outputs into chunks, and when it
//! dies from a signal (an allocation failure's abort, a crash, the CPU limit's SIGXCPU, or the
//! parent's SIGTERM at a timeout) a handler writes the outputs made so far to the parent before
//! the signal takes its course. So every output produced before the failure is delivered.
//!
//! It also says which node of the worker's chain was running (a `Running` frame), so the parent
//! names that node.
//!
//! The handler only reads atomics and calls `write`, `signal` and `raise`
//! (async-signal-safe). The worker is single-threaded; the committed bytes are published after
//! each output is fully encoded.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};

static PENDING_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static PENDING_LEN: AtomicUsize = AtomicUsize::new(0);
static PENDING_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Whether the published buffers are to be flushed (outputs or item ends, possibly no outputs).
static PUBLISHED: AtomicBool = AtomicBool::new(false);
static ENDS_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static ENDS_LEN: AtomicUsize = AtomicUsize::new(0);
static ENDS_COUNT: AtomicUsize = AtomicUsize::new(0);
/// The chain position of the node running now ([`NOT_RUNNING`] between calls).
static RUNNING: AtomicUsize = AtomicUsize::new(NOT_RUNNING);
const NOT_RUNNING: usize = usize::MAX;

/// The signals after which the handler flushes.
const FATAL: [libc::c_int; 7] = [
    libc::SIGABRT,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGXCPU,
    libc::SIGTERM,
];

/// Publishes `count` encoded outputs in `bytes`, and the ends of the `ends_count` items done
/// since the last chunk (varints in `ends`), as what to flush if the worker dies now: the
/// parent needs the ends to know which item each output came from.
pub(crate) fn publish(bytes: &[u8], count: usize, ends: &[u8], ends_count: usize) {
    PENDING_LEN.store(0, SeqCst);
    PENDING_PTR.store(bytes.as_ptr() as *mut u8, SeqCst);
    PENDING_COUNT.store(count, SeqCst);
    ENDS_PTR.store(ends.as_ptr() as *mut u8, SeqCst);
    ENDS_LEN.store(ends.len(), SeqCst);
    ENDS_COUNT.store(ends_count, SeqCst);
    PENDING_LEN.store(bytes.len(), SeqCst);
    PUBLISHED.store(true, SeqCst);
}

/// Which node of the worker's chain runs now, for the parent to name the node if the worker dies
/// (a memory or time limit is the process's, not one node's).
pub(crate) fn set_running(member: usize) {
    RUNNING.store(member, SeqCst);
}

/// No node runs now.
pub(crate) fn set_idle() {
    RUNNING.store(NOT_RUNNING, SeqCst);
}

/// Nothing to flush (the outputs were sent).
pub(crate) fn clear() {
    PUBLISHED.store(false, SeqCst);
    PENDING_LEN.store(0, SeqCst);
}

/// Installs the handler (on the alternate signal stack Rust sets up for the main thread, so a
/// stack overflow can be handled too).
pub(crate) fn install() {
    for signal in FATAL {
        // SAFETY: a zeroed sigaction with a valid handler; installing it has no other effect.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_ONSTACK | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal(signal: libc::c_int) {
    let published = PUBLISHED.swap(false, SeqCst);
    let len = PENDING_LEN.load(SeqCst);
    let ptr = PENDING_PTR.load(SeqCst);
    let count = PENDING_COUNT.load(SeqCst);
    let ends_ptr = ENDS_PTR.load(SeqCst);
    let ends_len = ENDS_LEN.load(SeqCst);
    let ends_count = ENDS_COUNT.load(SeqCst);
    if published && (len == 0 || !ptr.is_null()) && (ends_len == 0 || !ends_ptr.is_null()) {
        // The frame: body length, the `Outputs` tag, the count as a varint, the outputs, the
        // number of item ends as a varint, the ends.
        let mut header = [0u8; 16];
        let n = 5 + put_varint(&mut header[5..], count as u64);
        let mut ends_header = [0u8; 10];
        let m = put_varint(&mut ends_header, ends_count as u64);
        let body = (n - 4 + len + m + ends_len) as u32;
        header[..4].copy_from_slice(&body.to_le_bytes());
        header[4] = super::protocol::OUTPUTS;
        // SAFETY: write(2) of stack buffers and of the published bytes, alive (the worker is
        // stopped inside this handler).
        unsafe {
            write_all(header.as_ptr(), n);
            write_all(ptr, len);
            write_all(ends_header.as_ptr(), m);
            write_all(ends_ptr, ends_len);
        }
    }
    let running = RUNNING.load(SeqCst);
    if running != NOT_RUNNING {
        // A `Running` frame: body length, the tag, the chain position as a varint.
        let mut frame = [0u8; 16];
        let n = 5 + put_varint(&mut frame[5..], running as u64);
        frame[..4].copy_from_slice(&((n - 4) as u32).to_le_bytes());
        frame[4] = super::protocol::RUNNING;
        // SAFETY: write(2) of a stack buffer.
        unsafe { write_all(frame.as_ptr(), n) };
    }
    // SA_RESETHAND restored the default action: raise again to die of the same signal.
    // SAFETY: raising a signal for this process.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Writes `value` as a varint at the start of `out` (no allocation: signal-safe); its length.
fn put_varint(out: &mut [u8], mut value: u64) -> usize {
    let mut n = 0;
    while value >= 0x80 {
        out[n] = (value as u8) | 0x80;
        value >>= 7;
        n += 1;
    }
    out[n] = value as u8;
    n + 1
}

/// `write` until done or failed.
unsafe fn write_all(mut ptr: *const u8, mut len: usize) {
    while len > 0 {
        // SAFETY: the caller's buffer of `len` bytes.
        let written = unsafe { libc::write(1, ptr.cast(), len) };
        if written <= 0 {
            return;
        }
        // SAFETY: within the buffer.
        ptr = unsafe { ptr.add(written as usize) };
        len -= written as usize;
    }
}
