//! Hostile files and paths: inputs that are not regular files, outputs that are the input
//! or the manifest under another name, a results or plan file fed back as input. Each is
//! refused before anything is sent or written, and the files are left as they were.

use crate::harness::Test;

const JOB: &str = r#"
version: 1
name: notes
input: { csv: rows.csv, require: [id, note] }
steps:
  - name: note
    request: POST /api/v1/conversations/{{ row.id }}/notes
    body: { content: { body: "{{ row.note }}" } }
"#;

const ROWS: &str = "id,note\nc1,hello\nc2,world\n";

fn job() -> Test {
    Test::new()
        .file("job.yaml", JOB)
        .file("rows.csv", ROWS)
        .env("GLADLY_HOST", "http://127.0.0.1:9")
        .env("GLADLY_USERNAME", "ops@example.com")
        .env("GLADLY_API_TOKEN", "t")
}

#[cfg(unix)]
#[test]
fn an_input_that_is_not_a_regular_file_is_refused_at_once() {
    let test = job();
    let fifo = test.dir().join("pipe.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::create_dir(test.dir().join("folder.csv")).unwrap();
    for (input, what) in [
        ("pipe.csv", "a FIFO (named pipe)"),
        ("/dev/zero", "a device"),
        ("folder.csv", "a folder"),
    ] {
        // A FIFO used to wait forever for a writer; /dev/zero to read forever.
        test.run_args(&["apply", "job.yaml", "--dry-run", "--input", input])
            .expect(
                2,
                &[&format!(
                    "error: `{input}`: is {what}, not a regular file: give the path of a file of rows"
                )],
            );
    }
    assert!(!test.dir().join("results").exists(), "nothing was written");
}

#[cfg(unix)]
#[test]
fn results_that_are_the_input_or_the_manifest_by_another_name_are_refused() {
    let test = job();
    std::fs::hard_link(test.dir().join("rows.csv"), test.dir().join("hard.csv")).unwrap();
    std::os::unix::fs::symlink("rows.csv", test.dir().join("soft.csv")).unwrap();
    std::os::unix::fs::symlink("job.yaml", test.dir().join("manifest-link.csv")).unwrap();
    let same = |a: &str, b: &str, path: &str| {
        format!("error: {a} and {b} are the same file, `{path}`: give them different paths")
    };
    test.run_args(&["apply", "job.yaml", "--dry-run", "--results", "hard.csv"])
        .expect(1, &[&same("the input", "the results CSV", "rows.csv")]);
    test.run_args(&["apply", "job.yaml", "--results", "soft.csv", "--yes"])
        .expect(1, &[&same("the input", "the results CSV", "rows.csv")]);
    test.run_args(&[
        "apply",
        "job.yaml",
        "--dry-run",
        "--results",
        "manifest-link.csv",
    ])
    .expect(
        1,
        &[&same(
            "the results CSV",
            "the manifest",
            "manifest-link.csv",
        )],
    );
    // The plan of a dry run lands beside the results: `rows.plan.csv` for `--results rows.csv`.
    let test = test.file("rows.plan.csv", ROWS);
    test.run_args(&[
        "apply",
        "job.yaml",
        "--dry-run",
        "--input",
        "rows.plan.csv",
        "--results",
        "rows.csv",
    ])
    .expect(1, &[&same("the input", "the plan", "rows.plan.csv")]);
    assert_eq!(test.read("rows.plan.csv"), ROWS);
    assert_eq!(test.read("rows.csv"), ROWS, "the input is untouched");
    assert_eq!(
        test.read("job.yaml"),
        crate::harness::unindent(JOB).trim_start()
    );
}

#[test]
fn a_results_or_plan_file_given_as_input_is_refused() {
    let test = job();
    test.run_args(&["apply", "job.yaml", "--dry-run"])
        .expect(0, &[]);
    for file in ["results/notes.plan.csv", "results/notes.csv"] {
        if !test.dir().join(file).exists() {
            continue;
        }
        test.run_args(&["apply", "job.yaml", "--dry-run", "--input", file, "--results", "other.csv"])
            .expect(
                1,
                &[&format!(
                    "error: `{file}` is a results or plan file written by runner, not rows to run: give the input the job was run on (to re-run the failed rows of a run, `--only-failed RESULTS`)"
                )],
            );
    }
    assert!(test.dir().join("results/notes.plan.csv").exists());
}

/// One case of `tests/fixtures/hostile/`: what the run gave.
struct Answer {
    code: Option<i32>,
    first: String,
    stderr: String,
}

/// Lays out a case in `dir`: its files, then what its `make` file builds.
fn lay_out(case: &std::path::Path, dir: &std::path::Path) {
    for entry in std::fs::read_dir(case).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !["args", "make", "expect"].contains(&name.as_str()) {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    let Ok(make) = std::fs::read_to_string(case.join("make")) else {
        return;
    };
    for line in make.lines().filter(|l| !l.is_empty()) {
        let mut words = line.splitn(4, ' ');
        let (what, a) = (words.next().unwrap(), dir.join(words.next().unwrap()));
        match what {
            "fifo" => assert!(
                std::process::Command::new("mkfifo")
                    .arg(&a)
                    .status()
                    .unwrap()
                    .success()
            ),
            "dir" => std::fs::create_dir_all(&a).unwrap(),
            "hardlink" => std::fs::hard_link(&a, dir.join(words.next().unwrap())).unwrap(),
            #[cfg(unix)]
            "symlink" => {
                let target = a.file_name().unwrap().to_owned();
                std::os::unix::fs::symlink(target, dir.join(words.next().unwrap())).unwrap();
            }
            "repeat" | "repeat-append" => {
                let count: usize = words.next().unwrap().parse().unwrap();
                let text = words.next().unwrap_or("").replace("\\n", "\n");
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(what == "repeat-append")
                    .write(true)
                    .truncate(what == "repeat")
                    .open(&a)
                    .unwrap();
                let block = text.repeat(count);
                std::io::Write::write_all(&mut file, block.as_bytes()).unwrap();
            }
            other => panic!("unknown make directive `{other}`"),
        }
    }
}

/// Runs a case's command line in `dir`, killing it after `limit` (a hang).
fn answer(case: &std::path::Path, dir: &std::path::Path, limit: std::time::Duration) -> Answer {
    let args: Vec<String> = std::fs::read_to_string(case.join("args"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runner"))
        .args(&args)
        .current_dir(dir)
        .env_remove("GLADLY_HOST")
        .env_remove("GLADLY_USERNAME")
        .env_remove("GLADLY_API_TOKEN")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut text);
        text
    });
    let deadline = std::time::Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    // The first error (`error: …` or a row's `row N (line L): …`); a run without one
    // records its first other line (a warning), progress and `sandbox:` lines aside.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error:") || l.starts_with("row "))
        .or_else(|| {
            stderr.lines().find(|l| {
                !l.trim().is_empty() && !l.starts_with("progress:") && !l.starts_with("sandbox:")
            })
        })
        .unwrap_or("")
        .to_owned();
    Answer {
        code,
        first,
        stderr,
    }
}

#[test]
fn the_hostile_corpus_gets_its_recorded_answers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 100, "only {} hostile cases", cases.len());
    let bless = std::env::var_os("BLESS").is_some();
    // Generous: a debug build on a busy machine; a hang is minutes, not seconds.
    let limit = std::time::Duration::from_secs(60);
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let name = case.file_name().unwrap().to_string_lossy().into_owned();
                    let dir = tempfile::tempdir().unwrap();
                    lay_out(case, dir.path());
                    let got = answer(case, dir.path(), limit);
                    let mut problems = Vec::new();
                    let Some(code) = got.code else {
                        problems.push(format!("{name}: no answer within {limit:?} (a hang)"));
                        failures.lock().unwrap().extend(problems);
                        continue;
                    };
                    for bad in ["panicked", "internal error", "RUST_BACKTRACE"] {
                        if got.stderr.contains(bad) {
                            problems.push(format!("{name}: stderr says `{bad}`:\n{}", got.stderr));
                        }
                    }
                    let recorded = format!("{code}\n{}\n", got.first);
                    if bless {
                        std::fs::write(case.join("expect"), &recorded).unwrap();
                    } else {
                        match std::fs::read_to_string(case.join("expect")) {
                            Ok(expected) if expected == recorded => {}
                            Ok(expected) => problems.push(format!(
                                "{name}: expected\n{expected}got\n{recorded}(stderr:\n{})",
                                got.stderr.chars().take(2000).collect::<String>()
                            )),
                            Err(_) => {
                                problems.push(format!("{name}: no `expect` (run with BLESS=1)"));
                            }
                        }
                    }
                    failures.lock().unwrap().extend(problems);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn standard_input_is_read_when_named_and_kept_beside_the_results() {
    let test = job();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("runner"))
        .args(["apply", "job.yaml", "--dry-run", "--input", "-"])
        .current_dir(test.dir())
        .env_remove("GLADLY_HOST")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"id,note\nc7,from a pipe\n",
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let outcome = crate::harness::Outcome::from_output(&out, test.dir());
    outcome.expect(
        0,
        &["input:   standard input (23 bytes) saved as results/notes.stdin.csv (give that file to --resume or --only-failed runs)"],
    );
    assert!(
        outcome.stdout().contains("1 rows — 1 planned"),
        "{}",
        outcome.stdout()
    );
    assert_eq!(
        test.read("results/notes.stdin.csv"),
        "id,note\nc7,from a pipe\n"
    );
    assert!(
        test.read("results/notes.plan.jsonl")
            .contains("/api/v1/conversations/c7/notes")
    );
}
