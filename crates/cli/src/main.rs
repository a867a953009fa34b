//! The `baton` command: see the `baton_cli` library for what it does.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    baton_cli::main(std::env::args_os().skip(1)).into()
}
