//! The exit-code table: the one place that decides what number the process returns.
//!
//! Every code has a name and a line of docs; README's "Exit codes" section lists the same
//! table. `process::exit` is used nowhere: `main` returns the `ExitCode` built here.

use std::process::ExitCode;

/// What a command's outcome means for the calling shell or CI job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done (or, for a dry run, planned) without a failed row.
    Ok,
    /// The command line itself was wrong: unknown flag, missing argument, bad `--set`.
    Usage,
    /// A manifest or an input file is invalid; nothing was sent.
    Invalid,
    /// The run finished but at least one row failed; see the results CSV.
    RowsFailed,
    /// A manifest rule aborted the job (`action: abort`).
    Aborted,
    /// The run could not go on: credentials rejected, host unreachable, output unwritable.
    Fatal,
    /// Ctrl-C: in-flight rows finished and were recorded; resume with `--resume`.
    Interrupted,
}

impl Exit {
    /// The numeric code documented in README.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Usage => 1,
            Exit::Invalid => 2,
            Exit::RowsFailed => 3,
            Exit::Aborted => 4,
            Exit::Fatal => 5,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let all = [
            Exit::Ok,
            Exit::Usage,
            Exit::Invalid,
            Exit::RowsFailed,
            Exit::Aborted,
            Exit::Fatal,
            Exit::Interrupted,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
