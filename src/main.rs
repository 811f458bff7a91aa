use clap::Parser;
use wsdeck::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if let Some(Command::Pipe(args)) = cli.command {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("wsdeck: cannot start the async runtime: {e}");
                std::process::exit(1);
            }
        };
        let code = runtime.block_on(wsdeck::pipe::run_pipe(args));
        // Exit without waiting for the stdin reader thread, which may be blocked in a read.
        std::process::exit(code);
    }
}
