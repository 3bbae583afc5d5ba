//! `runner sandbox`: serves the built-in Gladly simulator (placeholder until it lands).

use super::Exit;

/// Arguments of `runner sandbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

pub(crate) fn run(args: &SandboxArgs) -> Exit {
    eprintln!("error: the sandbox is not built yet (port {})", args.port);
    Exit::Fatal
}
