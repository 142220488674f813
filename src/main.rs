use std::process::ExitCode;

use clap::Parser;
use letterbox::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    run(cli)
}
