//! Installs the tracing subscriber: which levels are shown, in what format, and where.
//!
//! Our crate logs at `warn` by default, `info` with `-v`, `debug` with `-vv` and `trace`
//! with `-vvv` (`error` with `-q`). Other crates (reqwest, hyper, h2, rustls) stay at
//! `warn` whatever the verbosity, because at `trace` they may log header-level details;
//! only an explicit `RUST_LOG` lowers them. Output goes to stderr, through the progress bar
//! while one is shown ([`LogWriter`]). What gets logged, and that secrets never are, is the
//! business of the code that logs, not of this module.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::progress::LogWriter;

/// The target our own events and spans carry (the library crate's name).
const OUR_TARGET: &str = "gladly_runner";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber; `verbosity` is -1 for `-q`, 0 by default, and the
/// number of `-v` otherwise. Does nothing if a subscriber is already installed.
pub(crate) fn init(verbosity: i8, format: LogFormat) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter: Targets = match directives(verbosity, rust_log.as_deref()).parse() {
        Ok(filter) => filter,
        Err(err) => {
            eprintln!("warning: ignoring `RUST_LOG`: {err}");
            directives(verbosity, None)
                .parse()
                .expect("our own directives parse")
        }
    };
    let layer = tracing_subscriber::fmt::layer().with_writer(|| LogWriter);
    // An error means a subscriber is already installed (a second `run` in one process).
    let _ = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(layer.with_ansi(super::color::enabled()))
            .with(filter)
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(layer.json().with_ansi(false))
            .with(filter)
            .try_init(),
    };
}

/// The filter: every crate at `warn` (`error` with `-q`), ours at the asked verbosity,
/// then `RUST_LOG`'s `target=level` directives, which win for the targets they name.
fn directives(verbosity: i8, rust_log: Option<&str>) -> String {
    let (others, ours) = match verbosity {
        i8::MIN..=-1 => ("error", "error"),
        0 => ("warn", "warn"),
        1 => ("warn", "info"),
        2 => ("warn", "debug"),
        _ => ("warn", "trace"),
    };
    let mut text = format!("{others},{OUR_TARGET}={ours}");
    if let Some(extra) = rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        text.push(',');
        text.push_str(extra);
    }
    text
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    /// Whether an event from `target` at `level` gets through the `filter` directives.
    /// A macro because `enabled!` needs the target and level as constants.
    macro_rules! enabled {
        ($filter:expr, $target:literal, $level:ident) => {{
            let filter: Targets = $filter.parse().unwrap();
            let subscriber = tracing_subscriber::registry().with(filter);
            tracing::subscriber::with_default(subscriber, || {
                tracing::enabled!(target: $target, Level::$level)
            })
        }};
    }

    #[test]
    fn verbosity_raises_our_level_only() {
        assert_eq!(directives(-1, None), "error,gladly_runner=error");
        assert_eq!(directives(0, None), "warn,gladly_runner=warn");
        assert_eq!(directives(1, None), "warn,gladly_runner=info");
        assert_eq!(directives(2, None), "warn,gladly_runner=debug");
        assert_eq!(directives(3, None), "warn,gladly_runner=trace");
        assert_eq!(directives(9, Some("  ")), "warn,gladly_runner=trace");

        let vv = directives(2, None);
        assert!(enabled!(vv, "gladly_runner::engine", DEBUG));
        assert!(!enabled!(vv, "gladly_runner::engine", TRACE));
        assert!(enabled!(directives(0, None), "gladly_runner::engine", WARN));
        assert!(!enabled!(
            directives(0, None),
            "gladly_runner::engine",
            INFO
        ));
    }

    #[test]
    fn http_crates_stay_at_warn_without_rust_log() {
        for verbosity in -1..=5 {
            let filter = directives(verbosity, None);
            assert!(!enabled!(filter, "hyper", INFO), "{filter}");
            assert!(!enabled!(filter, "hyper", DEBUG), "{filter}");
            assert!(!enabled!(filter, "hyper", TRACE), "{filter}");
            assert!(!enabled!(filter, "reqwest", INFO), "{filter}");
            assert!(!enabled!(filter, "reqwest", TRACE), "{filter}");
            assert!(!enabled!(filter, "h2", TRACE), "{filter}");
            assert!(!enabled!(filter, "rustls", TRACE), "{filter}");
        }
        // A RUST_LOG that names only our crate leaves them alone too.
        let filter = directives(0, Some("gladly_runner=trace"));
        assert!(enabled!(filter, "gladly_runner::engine", TRACE));
        assert!(!enabled!(filter, "hyper", DEBUG));
    }

    #[test]
    fn rust_log_can_lower_them() {
        let filter = directives(0, Some("hyper=debug"));
        assert_eq!(filter, "warn,gladly_runner=warn,hyper=debug");
        assert!(enabled!(filter, "hyper", DEBUG));
        assert!(!enabled!(filter, "reqwest", DEBUG));
        // A bare level in RUST_LOG replaces the default for every crate.
        assert!(enabled!(directives(2, Some("trace")), "reqwest", TRACE));
    }
}
