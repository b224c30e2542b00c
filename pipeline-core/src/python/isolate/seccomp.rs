//! The system-call filter of an isolated worker: a seccomp-bpf program, written with `libc`,
//! installed once the interpreter has started (so its start-up is not constrained) and before any
//! node code runs.
//!
//! It denies, with `EPERM`: running programs (`execve`, `execveat`), new processes (`fork`,
//! `vfork`, `clone` without `CLONE_THREAD`; `clone3` gets `ENOSYS` so libc falls back to
//! `clone`), opening any file (`open`, `openat`, `openat2`, `creat`, `open_by_handle_at`),
//! changing the file system (`unlink*`, `rename*`, `mkdir*`, `rmdir`, `link*`, `symlink*`,
//! `mknod*`, `chmod*`, `chown*`, `truncate`), the network (`socket`, `socketpair`, `connect`,
//! `bind`, `listen`, `accept*`), signals to any process but itself (`kill`, `tkill`, `tgkill`,
//! `rt_*sigqueueinfo` with another pid; `pidfd_*`), other processes' memory (`ptrace`,
//! `process_vm_*`), and the kernel's administrative calls (`mount`, `umount2`, `pivot_root`,
//! `chroot`, `setns`, `unshare`, `bpf`, `perf_event_open`, module and `kexec` calls, `reboot`,
//! `swapon`/`swapoff`, keyrings, `userfaultfd`, `io_uring_*`, `prctl` but `PR_GET_SECCOMP`, `setrlimit`,
//! `prlimit64` but to read a limit). A call from a foreign ABI (x32 on x86-64, or another architecture) kills the
//! worker. Everything else (memory, reading and writing its pipes, time, `getrandom`, exit) is
//! allowed.
//!
//! Kernels without seccomp (or other architectures than x86-64 and aarch64) run the worker
//! without the filter; its other limits still hold, and [`install`] says why it did not apply.

/// Why the filter could not be installed.
pub(crate) type Unavailable = String;

/// `prctl(PR_GET_SECCOMP)`: 2 when a filter is active.
pub(crate) fn mode() -> i32 {
    // SAFETY: a query with no pointers.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) }
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod filter {
    use libc::{c_long, sock_filter};

    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: u32 = 0xC000_00B7;

    const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JGE: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const JSET: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    const RET: u16 = 0x06; // BPF_RET | BPF_K

    // Offsets into `struct seccomp_data` (little-endian: the low half of an argument first).
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    const ARG0_LO: u32 = 16;
    const ARG0_HI: u32 = 20;
    const ARG2_LO: u32 = 32;
    const ARG2_HI: u32 = 36;

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

    /// Calls refused outright.
    const DENIED: &[c_long] = &[
        libc::SYS_execve,
        libc::SYS_execveat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_fork,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_vfork,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_open,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_creat,
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_unlink,
        libc::SYS_unlinkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_rmdir,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_rename,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_mkdir,
        libc::SYS_mkdirat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_link,
        libc::SYS_linkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_symlink,
        libc::SYS_symlinkat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_mknod,
        libc::SYS_mknodat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chmod,
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_chown,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_lchown,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_truncate,
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_pidfd_open,
        libc::SYS_pidfd_getfd,
        libc::SYS_pidfd_send_signal,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_setns,
        libc::SYS_unshare,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_setrlimit,
    ];

    /// Signal calls whose first argument is the target process: allowed only for this process.
    const SIGNALS: &[c_long] = &[
        libc::SYS_kill,
        libc::SYS_tkill,
        libc::SYS_tgkill,
        libc::SYS_rt_sigqueueinfo,
        libc::SYS_rt_tgsigqueueinfo,
    ];

    fn stmt(code: u16, k: u32) -> sock_filter {
        sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter { code, jt, jf, k }
    }

    /// The program for a worker whose pid is `pid`.
    pub(super) fn program(pid: u32) -> Vec<sock_filter> {
        let mut p = vec![
            stmt(LD_ABS, ARCH),
            jump(JEQ, AUDIT_ARCH, 1, 0),
            stmt(RET, KILL),
            stmt(LD_ABS, NR),
        ];
        #[cfg(target_arch = "x86_64")]
        {
            // x32 system calls (bit 30) would bypass the numbers below.
            p.push(jump(JGE, 0x4000_0000, 0, 1));
            p.push(stmt(RET, KILL));
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = JGE;
        for &nr in DENIED {
            p.push(jump(JEQ, nr as u32, 0, 1));
            p.push(stmt(RET, EPERM));
        }
        p.push(jump(JEQ, libc::SYS_clone3 as u32, 0, 1));
        p.push(stmt(RET, ENOSYS));
        // clone: threads only.
        p.extend([
            jump(JEQ, libc::SYS_clone as u32, 0, 4),
            stmt(LD_ABS, ARG0_LO),
            jump(JSET, libc::CLONE_THREAD as u32, 1, 0),
            stmt(RET, EPERM),
            stmt(RET, ALLOW),
        ]);
        // prlimit64: only reading a limit (a null new limit, the third argument).
        p.extend([
            jump(JEQ, libc::SYS_prlimit64 as u32, 0, 6),
            stmt(LD_ABS, ARG2_LO),
            jump(JEQ, 0, 0, 3),
            stmt(LD_ABS, ARG2_HI),
            jump(JEQ, 0, 0, 1),
            stmt(RET, ALLOW),
            stmt(RET, EPERM),
            stmt(LD_ABS, NR),
        ]);
        // prctl: only the query of the filter itself (a worker may not drop its death signal).
        p.extend([
            jump(JEQ, libc::SYS_prctl as u32, 0, 4),
            stmt(LD_ABS, ARG0_LO),
            jump(JEQ, libc::PR_GET_SECCOMP as u32, 1, 0),
            stmt(RET, EPERM),
            stmt(RET, ALLOW),
        ]);
        for &nr in SIGNALS {
            p.extend([
                jump(JEQ, nr as u32, 0, 6),
                stmt(LD_ABS, ARG0_LO),
                jump(JEQ, pid, 0, 3),
                stmt(LD_ABS, ARG0_HI),
                jump(JEQ, 0, 0, 1),
                stmt(RET, ALLOW),
                stmt(RET, EPERM),
                stmt(LD_ABS, NR), // the next rule compares the number again
            ]);
        }
        p.push(stmt(RET, ALLOW));
        p
    }
}

/// Installs the filter on this process (and its threads to come), after `PR_SET_NO_NEW_PRIVS`.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub(crate) fn install() -> Result<(), Unavailable> {
    let mut program = filter::program(std::process::id());
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: plain prctl calls; `fprog` points at `program`, alive across the call (the kernel
    // copies it).
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(format!(
                "PR_SET_NO_NEW_PRIVS failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog as libc::c_ulong,
            0,
            0,
        ) != 0
        {
            return Err(format!(
                "this kernel refused a seccomp filter: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// No filter on this platform.
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(crate) fn install() -> Result<(), Unavailable> {
    Err("system-call filtering is implemented for Linux on x86-64 and aarch64 only".into())
}
