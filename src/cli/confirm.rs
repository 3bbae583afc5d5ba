//! Asks a person to confirm a destructive job before anything is sent.
//!
//! The prompt names the job, the host and how many rows may change, and only the word
//! `yes` goes on. Without a terminal to ask on (CI, a pipe) it refuses unless `--yes` was
//! given, so a destructive job never runs unattended by accident. Deciding which jobs are
//! destructive and which hosts need asking is the caller's business.

use std::io::{self, BufRead, IsTerminal, Write};

/// Ok when the user passed `--yes` or typed `yes` at the prompt; otherwise the message
/// to print (nothing was sent). `rows` is the number of input rows, when known.
pub(crate) fn confirm_destructive(
    host: &str,
    rows: Option<u64>,
    job: &str,
    yes: bool,
) -> Result<(), String> {
    let is_tty = io::stdin().is_terminal() && io::stderr().is_terminal();
    confirm_with(
        host,
        rows,
        job,
        yes,
        is_tty,
        io::stdin().lock(),
        io::stderr().lock(),
    )
}

/// [`confirm_destructive`] with the terminal test, the reader and the prompt's writer
/// given, so it can be tested without a terminal.
fn confirm_with(
    host: &str,
    rows: Option<u64>,
    job: &str,
    yes: bool,
    is_tty: bool,
    mut input: impl BufRead,
    mut prompt: impl Write,
) -> Result<(), String> {
    if yes {
        return Ok(());
    }
    if !is_tty {
        return Err(format!(
            "`{job}` is destructive and there is no terminal to confirm on: \
             pass `--yes` to run it against {host}"
        ));
    }
    let scope = match rows {
        Some(1) => "up to 1 row".to_owned(),
        Some(n) => format!("up to {n} rows"),
        None => "every row of its input".to_owned(),
    };
    let not_confirmed = || "not confirmed: nothing was sent".to_owned();
    write!(
        prompt,
        "`{job}` is destructive: it will change {scope} on {host}. Type `yes` to go on: "
    )
    .and_then(|()| prompt.flush())
    .map_err(|_| not_confirmed())?;
    let mut answer = String::new();
    match input.read_line(&mut answer) {
        Ok(_) if answer.trim() == "yes" => Ok(()),
        Ok(0) => {
            // End of input: end the prompt's line so the error starts on its own.
            let _ = writeln!(prompt);
            Err(not_confirmed())
        }
        _ => Err(not_confirmed()),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn ask(
        answer: &str,
        rows: Option<u64>,
        yes: bool,
        is_tty: bool,
    ) -> (Result<(), String>, String) {
        let mut prompt = Vec::new();
        let result = confirm_with(
            "acme.gladly.com",
            rows,
            "delete-customers",
            yes,
            is_tty,
            answer.as_bytes(),
            &mut prompt,
        );
        (result, String::from_utf8(prompt).unwrap())
    }

    #[test]
    fn yes_flag_skips_the_prompt() {
        assert_eq!(ask("", Some(5), true, true), (Ok(()), String::new()));
        assert_eq!(ask("", Some(5), true, false), (Ok(()), String::new()));
    }

    #[test]
    fn typing_yes_goes_on() {
        let (result, prompt) = ask("yes\n", Some(50_000), false, true);
        assert_eq!(result, Ok(()));
        assert_eq!(
            prompt,
            "`delete-customers` is destructive: it will change up to 50000 rows on \
             acme.gladly.com. Type `yes` to go on: "
        );
        assert_eq!(ask("  yes \r\n", Some(1), false, true).0, Ok(()));
    }

    #[test]
    fn anything_else_stops() {
        for answer in ["y\n", "YES\n", "no\n", "\n", ""] {
            assert_eq!(
                ask(answer, None, false, true).0,
                Err("not confirmed: nothing was sent".to_owned()),
                "{answer:?}"
            );
        }
        let (_, prompt) = ask("", None, false, true);
        assert!(prompt.contains("it will change every row of its input on acme"));
        assert!(prompt.ends_with('\n'));
    }

    #[test]
    fn no_terminal_refuses_without_asking() {
        assert_eq!(
            ask("yes\n", Some(3), false, false),
            (
                Err(
                    "`delete-customers` is destructive and there is no terminal to \
                     confirm on: pass `--yes` to run it against acme.gladly.com"
                        .to_owned()
                ),
                String::new()
            )
        );
    }
}
