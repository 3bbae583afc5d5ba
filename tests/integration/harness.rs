//! A fluent test builder that runs the built `runner` binary in a temporary folder, the way
//! a user would: `Test::new().file("job.yaml", …).args(["validate", "job.yaml"]).run()`.

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

/// What a run printed and returned.
pub struct Outcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code.
    pub code: i32,
    /// The folder the run happened in.
    pub dir: PathBuf,
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
    pub fn run(&self) -> Outcome {
        let mut cmd = Command::cargo_bin("runner").expect("runner binary");
        cmd.current_dir(self.dir.path())
            .args(&self.args)
            .env_remove("GLADLY_HOST")
            .env_remove("GLADLY_USERNAME")
            .env_remove("GLADLY_API_TOKEN");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("run runner");
        Outcome {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            code: status.code().unwrap_or(-1),
            dir: self.dir.path().to_path_buf(),
        }
    }

    /// Reads a file the run wrote.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("read {name}: {e}"))
    }
}
