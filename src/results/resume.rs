//! Reading an earlier run's results for `--resume` / `--only-failed`, and the sidecar that
//! records what that run was made from (manifest and input hashes).
//!
//! A run killed mid-write can leave a torn last line; [`recorded_rows`] drops it (that row
//! simply runs again) so appended lines start on a clean line.

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ResultKind;

/// What a results file was produced from; written beside it as `NAME.csv.meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The job name.
    pub job: String,
    /// SHA-256 of the manifest text.
    pub manifest_sha256: String,
    /// SHA-256 of the input file's bytes.
    pub input_sha256: String,
    /// The input file as given.
    pub input: String,
}

/// The sidecar path of a results file.
pub fn meta_path(results: &Path) -> PathBuf {
    let mut name = results.as_os_str().to_owned();
    name.push(".meta.json");
    PathBuf::from(name)
}

impl RunMeta {
    /// Writes the sidecar beside `results`.
    pub fn save(&self, results: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("meta serialises");
        std::fs::write(meta_path(results), text + "\n")
    }

    /// Reads the sidecar beside `results`, if there is one.
    pub fn load(results: &Path) -> io::Result<Option<RunMeta>> {
        match std::fs::read_to_string(meta_path(results)) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// SHA-256 (hex) of a file's bytes, read in blocks.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    let mut hex = String::with_capacity(64);
    for byte in hash.finalize() {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// The rows an earlier run recorded, with how each ended (the last line for a row wins).
/// Truncates a torn last line first, so the file can be appended to.
pub fn recorded_rows(path: &Path) -> io::Result<Vec<(u64, ResultKind)>> {
    truncate_torn_line(path)?;
    let mut reader = csv::Reader::from_path(path).map_err(io::Error::other)?;
    let header = reader.headers().map_err(io::Error::other)?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "`{}` is not a results file: it has no `{name}` column",
                    path.display()
                ),
            )
        })
    };
    let (row_at, result_at) = (column("row")?, column("result")?);
    let mut out = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else { continue };
        let row = record.get(row_at).and_then(|r| r.parse::<u64>().ok());
        let kind = record.get(result_at).and_then(ResultKind::parse);
        if let (Some(row), Some(kind)) = (row, kind) {
            out.push((row, kind));
        }
    }
    Ok(out)
}

/// Rows to leave out on `--resume`: every row recorded.
pub fn done_rows(recorded: &[(u64, ResultKind)]) -> HashSet<u64> {
    recorded.iter().map(|(row, _)| *row).collect()
}

/// Rows to run again on `--only-failed`: those whose last line says `failed`.
pub fn failed_rows(recorded: &[(u64, ResultKind)]) -> HashSet<u64> {
    let mut last = std::collections::HashMap::new();
    for (row, kind) in recorded {
        last.insert(*row, *kind);
    }
    last.into_iter()
        .filter(|(_, k)| *k == ResultKind::Failed)
        .map(|(row, _)| row)
        .collect()
}

/// Cuts everything after the last newline (a line the killed run did not finish).
fn truncate_torn_line(path: &Path) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut tail = Vec::new();
    let start = len.saturating_sub(1 << 16);
    file.seek(SeekFrom::Start(start))?;
    file.read_to_end(&mut tail)?;
    if tail.last() == Some(&b'\n') {
        return Ok(());
    }
    let keep = tail
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(start, |i| start + i as u64 + 1);
    file.set_len(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_drops_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(
            &path,
            "row,line,result,outcome\n1,2,done,created\n2,3,failed,failed\n3,4,do",
        )
        .unwrap();
        let rows = recorded_rows(&path).unwrap();
        assert_eq!(rows, [(1, ResultKind::Done), (2, ResultKind::Failed)]);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("2,3,failed,failed\n")
        );
        assert_eq!(done_rows(&rows), HashSet::from([1, 2]));
        assert_eq!(failed_rows(&rows), HashSet::from([2]));
    }

    #[test]
    fn a_later_line_for_a_row_wins() {
        let rows = [(2, ResultKind::Failed), (2, ResultKind::Done)];
        assert!(failed_rows(&rows).is_empty());
    }

    #[test]
    fn meta_round_trips_and_files_hash() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        let meta = RunMeta {
            job: "j".into(),
            manifest_sha256: "m".into(),
            input_sha256: "i".into(),
            input: "rows.csv".into(),
        };
        meta.save(&results).unwrap();
        assert_eq!(RunMeta::load(&results).unwrap(), Some(meta));
        std::fs::write(&results, "abc").unwrap();
        assert_eq!(
            hash_file(&results).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
