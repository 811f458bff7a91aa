use clap::Parser;
use wsdeck::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => {
            let result = tokio::runtime::Runtime::new()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(wsdeck::server::run_serve(args)));
            if let Err(e) = result {
                eprintln!("wsdeck: {e:#}");
                std::process::exit(1);
            }
        }
        Some(Command::Pipe(args)) => {
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
        _ => {}
    }
}
