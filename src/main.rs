use std::process::ExitCode;

use clap::Parser;
use letterbox::cli::{Cli, run};

fn main() -> ExitCode {
    letterbox::memory::configure_allocator();
    let cli = Cli::parse();
    run(cli)
}
