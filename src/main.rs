use std::process::ExitCode;

use clap::Parser;
use letterbox::cli::{Cli, run};

fn main() -> ExitCode {
    letterbox::memory::return_large_blocks_to_the_system();
    let cli = Cli::parse();
    run(cli)
}
