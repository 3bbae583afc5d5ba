//! A fluent test builder that runs the built `runner` binary in a temporary folder, the way
//! a user would: `Test::new().file("job.yaml", …).args(["validate", "job.yaml"]).run()`.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// Removes the common indentation of a literal block, so expected text can be indented.
pub fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// One run of the binary in its own temporary folder.
pub struct Test {
    dir: TempDir,
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

/// What a run printed and returned. A test must state what it expects of the exit code
/// and of stderr (read both through their accessors, to assert on them): an outcome dropped
/// with either unread fails the test, so a test cannot pass by expecting nothing.
pub struct Outcome {
    stdout: String,
    stderr: String,
    code: i32,
    dir: PathBuf,
    /// Which of the code and stderr the test has read (`CODE`, `STDERR`).
    read: Cell<u8>,
}

const CODE: u8 = 1;
const STDERR: u8 = 2;

impl Outcome {
    /// What a finished process printed and returned, run in `dir`.
    pub fn from_output(output: &Output, dir: &Path) -> Self {
        Outcome {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code().unwrap_or(-1),
            dir: dir.to_path_buf(),
            read: Cell::new(0),
        }
    }

    /// The exit code (-1 when killed by a signal).
    #[must_use]
    pub fn code(&self) -> i32 {
        self.read.set(self.read.get() | CODE);
        self.code
    }

    /// Standard error.
    #[must_use]
    pub fn stderr(&self) -> &str {
        self.read.set(self.read.get() | STDERR);
        &self.stderr
    }

    /// States the exit code and stderr in one go: every stderr line other than the
    /// progress lines (`progress: …`, timing-dependent) must contain one of `stderr`, and
    /// each of `stderr` must be in some line. `&[]` says stderr holds nothing else.
    pub fn expect(&self, code: i32, stderr: &[&str]) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        for line in self.stderr().lines() {
            if line.trim().is_empty() || line.starts_with("progress: ") {
                continue;
            }
            assert!(
                stderr.iter().any(|s| line.contains(s)),
                "stderr line not expected by the test: `{line}`\nstderr:\n{}",
                self.stderr
            );
        }
        for s in stderr {
            assert!(
                self.stderr.contains(s),
                "stderr lacks `{s}`:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Standard output.
    #[must_use]
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// The folder the run happened in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let read = self.read.get();
        assert!(
            read & CODE != 0,
            "the test ran `runner` and stated no exit code: assert on `out.code()`\nstderr:\n{}",
            self.stderr
        );
        assert!(
            read & STDERR != 0,
            "the test ran `runner` and stated nothing about stderr: assert on `out.stderr()` \
             (`assert_eq!(out.stderr(), \"\")` when it must be empty)\nstderr:\n{}",
            self.stderr
        );
    }
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// The test's working folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (folders created) relative to the test folder; text is unindented.
    pub fn file(self, name: &str, text: &str) -> Self {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, unindent(text)).unwrap();
        self
    }

    /// Copies a file from the repository (e.g. `jobs/create-customers.yaml`) to the same
    /// relative path in the test folder.
    pub fn copy(self, repo_path: &str) -> Self {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(repo_path);
        let to = self.dir.path().join(repo_path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        self
    }

    /// Copies a repository file byte for byte into the test folder under `name`.
    pub fn copy_as(self, repo_path: &Path, name: &str) -> Self {
        let to = self.dir.path().join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo_path, &to)
            .unwrap_or_else(|e| panic!("copy {}: {e}", repo_path.display()));
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Runs the binary and returns what it did; the folder stays until the Test drops.
    #[must_use = "state the exit code and stderr the run must give"]
    pub fn run(&self) -> Outcome {
        self.run_args(&self.args)
    }

    /// Runs the binary with `args` instead of the ones given to [`Test::args`].
    #[must_use = "state the exit code and stderr the run must give"]
    pub fn run_args<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Outcome {
        let mut cmd = Command::cargo_bin("runner").expect("runner binary");
        cmd.current_dir(self.dir.path())
            .args(args)
            .env_remove("GLADLY_HOST")
            .env_remove("GLADLY_USERNAME")
            .env_remove("GLADLY_API_TOKEN");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        Outcome::from_output(&cmd.output().expect("run runner"), self.dir.path())
    }

    /// Reads a file the run wrote.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
}

/// `GET url` with the sandbox's basic credentials, as JSON: how tests read a sandbox's
/// end state (`/__sandbox/state`) and request log from outside the runner.
pub async fn sandbox_json(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    token: &str,
) -> serde_json::Value {
    client
        .get(url)
        .basic_auth(user, Some(token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
