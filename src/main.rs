//! `wsdeck`: parse the command line and hand it to the command it names (see `cmd`).

use std::process::ExitCode;

fn main() -> ExitCode {
    wsdeck::cmd::main(clap::Parser::parse())
}
