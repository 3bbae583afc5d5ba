//! Whether what the runner writes to a terminal is coloured: `--color`, `NO_COLOR`
//! (<https://no-color.org>), and whether stderr is a terminal at all.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--color`: when to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour (even into a pipe or file).
    Always,
    /// Never colour.
    Never,
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Decides once, at start-up, whether stderr is coloured.
pub(crate) fn init(choice: ColorChoice) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    ENABLED.store(
        decide(choice, no_color, std::io::stderr().is_terminal()),
        Ordering::Relaxed,
    );
}

/// `--color always` wins over `NO_COLOR`; `auto` needs a terminal and no `NO_COLOR`.
fn decide(choice: ColorChoice, no_color: bool, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    }
}

/// Whether stderr output is coloured.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Colours the `error:` / `warning:` / `help:` heads and the `-->` and `|` gutter of
/// rendered diagnostics (and `error:` lines), when colour is on; otherwise returns the
/// text as it is.
pub(crate) fn paint(text: &str) -> String {
    if !enabled() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 32);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if let Some(rest) = body.strip_prefix("error:") {
            let _ = write!(out, "{RED}error{RESET}{BOLD}:{rest}{RESET}");
        } else if let Some(rest) = body.strip_prefix("warning:") {
            let _ = write!(out, "{YELLOW}warning{RESET}{BOLD}:{rest}{RESET}");
        } else if let Some((gutter, rest)) = body
            .split_once('|')
            .filter(|(g, _)| g.chars().all(|c| c.is_ascii_digit() || c == ' '))
        {
            let _ = write!(out, "{BLUE}{gutter}|{RESET}{rest}");
        } else if let Some(rest) = body.trim_start().strip_prefix("-->") {
            let indent = &body[..body.len() - body.trim_start().len()];
            let _ = write!(out, "{indent}{BLUE}-->{RESET}{rest}");
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_and_pipes_turn_colour_off_unless_forced() {
        assert!(decide(ColorChoice::Auto, false, true));
        assert!(!decide(ColorChoice::Auto, true, true));
        assert!(!decide(ColorChoice::Auto, false, false));
        assert!(decide(ColorChoice::Always, true, false));
        assert!(!decide(ColorChoice::Never, false, true));
    }

    #[test]
    fn painting_keeps_the_text() {
        ENABLED.store(true, Ordering::Relaxed);
        let text = "error: bad\n  --> a.yaml:1:1\n   |\n 1 | x\n   | ^ here\n";
        let painted = paint(text);
        ENABLED.store(false, Ordering::Relaxed);
        assert!(painted.contains("\x1b[1;31merror\x1b[0m"));
        let plain: String = {
            let mut s = String::new();
            let mut chars = painted.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    s.push(c);
                }
            }
            s
        };
        assert_eq!(plain, text);
        assert_eq!(paint(text), text);
    }
}
