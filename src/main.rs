use clap::Parser;

fn main() {
    let cli = wsdeck::cli::Cli::parse();
    if let Some(wsdeck::cli::Command::Serve(args)) = cli.command {
        let result = tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(wsdeck::server::run_serve(args)));
        if let Err(e) = result {
            eprintln!("wsdeck: {e:#}");
            std::process::exit(1);
        }
    }
}
