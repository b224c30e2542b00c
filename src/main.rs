//! The `pipeline` command: run, validate, draw and plan manifest pipelines.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
