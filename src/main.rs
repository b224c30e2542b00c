//! The `pipeline` command: run, validate, draw and plan manifest pipelines.

mod cli;

/// mimalloc rather than the system allocator: `pipeline run` over object lines allocates a few
/// blocks per line (a map, its entries, a list, a string) and frees them a batch later, more than
/// glibc's per-thread cache holds, so each went through glibc's bins (~400 instructions a pair;
/// 22% of the run's instructions). mimalloc's free lists cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
