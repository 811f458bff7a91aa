use clap::Parser;

fn main() {
    let _cli = wsdeck::cli::Cli::parse();
}
