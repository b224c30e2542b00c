//! A large, guarded native stack per interpreter: Python calls run on it, not on the stage thread's.
//!
//! RustPython recurses natively for every Python frame: measured ~82 KB of native stack per Python
//! call in debug builds. The interpreter's recursion limit (256 frames in debug, 1000 in release)
//! would therefore overflow a 2 MB stage thread (or a test thread) long before `RecursionError`,
//! aborting the process. So every entry into the interpreter switches (once, not per nested entry)
//! to a stack of [`SIZE`] bytes of *reserved* address space — pages are only committed when
//! touched — with an inaccessible guard page below it. Switching costs a few nanoseconds.

use std::cell::Cell;

/// Reserved size of each interpreter's stack: room for the recursion limit in debug builds.
const SIZE: usize = 256 << 20;

thread_local! {
    /// Whether this thread is currently running on an interpreter stack.
    static ON_BIG_STACK: Cell<bool> = const { Cell::new(false) };
}

/// An mmap'd stack with a guard page, unmapped on drop.
pub(crate) struct Stack {
    #[cfg(unix)]
    map: *mut libc::c_void,
}

#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

impl Stack {
    /// Reserves the stack, or `None` if the address space cannot be had (calls then run on the
    /// thread's own stack).
    pub(crate) fn new() -> Option<Stack> {
        #[cfg(unix)]
        {
            let page = page_size();
            // SAFETY: an anonymous private mapping; checked for failure below.
            let map = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    SIZE + page,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if map == libc::MAP_FAILED {
                return None;
            }
            // The stack grows down: the lowest page is the guard.
            // SAFETY: `map` is a fresh mapping of at least one page.
            if unsafe { libc::mprotect(map, page, libc::PROT_NONE) } != 0 {
                // SAFETY: unmapping what we mapped.
                unsafe { libc::munmap(map, SIZE + page) };
                return None;
            }
            Some(Stack { map })
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// Runs `f` on this stack unless the thread already runs on an interpreter stack. `f` must not
    /// unwind (callers catch panics inside it).
    #[inline]
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if ON_BIG_STACK.with(Cell::get) {
            return f();
        }
        #[cfg(unix)]
        {
            let page = page_size();
            ON_BIG_STACK.with(|c| c.set(true));
            // SAFETY: the region above the guard page is SIZE bytes, page-aligned (so aligned for
            // the target), mapped read-write and owned by `self`, which outlives the call; `f`
            // does not unwind (documented requirement, upheld by `Runtime::enter`).
            let result = unsafe { psm::on_stack((self.map as *mut u8).add(page), SIZE, f) };
            ON_BIG_STACK.with(|c| c.set(false));
            result
        }
        #[cfg(not(unix))]
        {
            f()
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: unmapping the mapping made in `new`; nothing runs on it any more (`run` has
        // returned, and `Stack` is owned by the runtime, which is dropped off this stack).
        unsafe {
            libc::munmap(self.map, SIZE + page_size());
        }
    }
}
