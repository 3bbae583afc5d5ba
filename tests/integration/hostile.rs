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
