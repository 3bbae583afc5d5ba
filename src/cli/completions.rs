//! `runner completions SHELL` and `runner man`: shell completion scripts and the man
//! page, generated from the same clap definition that parses the arguments.

use std::io::Write as _;

use clap::CommandFactory;

use super::{Cli, Exit};

/// Arguments of `runner completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub(crate) fn completions(args: &CompletionsArgs) -> Exit {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "runner", &mut out);
    match out.flush() {
        Ok(()) => Exit::Ok,
        Err(_) => Exit::Fatal,
    }
}

/// Arguments of `runner man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Write `runner.1` and a page per subcommand (`runner-apply.1`, …) into this folder
    /// instead of printing `runner.1`.
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

/// Prints the man page of `runner` (roff), or writes every page into a folder.
pub(crate) fn man(args: &ManArgs) -> Exit {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        let mut out = Vec::new();
        if clap_mangen::Man::new(command).render(&mut out).is_err() {
            return Exit::Fatal;
        }
        return match std::io::stdout().lock().write_all(&out) {
            Ok(()) => Exit::Ok,
            Err(_) => Exit::Fatal,
        };
    };
    let mut pages = vec![("runner".to_owned(), command.clone())];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        // clap names are `'static`; a handful of short strings for a process about to end.
        let name: &'static str = format!("runner-{}", sub.get_name()).leak();
        pages.push((name.to_owned(), sub.clone().name(name).display_name(name)));
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        super::report::error(&format!("cannot create `{}`: {e}", dir.display()));
        return Exit::Fatal;
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        let written = clap_mangen::Man::new(page)
            .render(&mut out)
            .and_then(|()| std::fs::write(&path, &out));
        if let Err(e) = written {
            super::report::error(&format!("cannot write `{}`: {e}", path.display()));
            return Exit::Fatal;
        }
        println!("wrote {}", path.display());
    }
    Exit::Ok
}
