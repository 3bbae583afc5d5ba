//! The ledger: the results CSV as a run's durable state, and the rules that protect it.
//!
//! Beside `NAME.csv` live three small files: `NAME.csv.meta.json` (what the run was made
//! from: job, manifest and input hashes), `NAME.csv.lock` (an exclusive lock held while a
//! run uses the ledger, with the holder's process id; removed when the run lets go) and `NAME.csv.journal` (JSON Lines:
//! the intent of every write, on disk before the write is sent, and the outcome of such a
//! row as soon as it ends, before its turn in the in-order CSV comes).
//!
//! [`compact`] folds the journal into the CSV: a row whose intent has no outcome was in
//! flight when the run died, and becomes `unknown` (a write not safe to repeat) or
//! `failed` (safe: resume sends it again). The result is one current line per row, in
//! input order, written to a temporary file and renamed over the old one. [`Recorded`]
//! then answers, for each row of an input (by key and fingerprint, never by row number),
//! whether `--resume` or `--only-failed` runs it.
//!
//! This module decides nothing about manifests or HTTP: callers give it finished cells.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{IDENTITY_COLUMNS, ResultKind};

/// What a results file was produced from; written beside it as `NAME.csv.meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunMeta {
    /// The job name.
    pub job: String,
    /// SHA-256 of the manifest text.
    pub manifest_sha256: String,
    /// SHA-256 of the input file's bytes.
    pub input_sha256: String,
    /// The input file as given.
    pub input: String,
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The sidecar path of a results file.
pub(crate) fn meta_path(results: &Path) -> PathBuf {
    beside(results, ".meta.json")
}

/// The journal of a results file.
pub(crate) fn journal_path(results: &Path) -> PathBuf {
    beside(results, ".journal")
}

/// The lock file of a results (or plan) file.
pub(crate) fn lock_path(results: &Path) -> PathBuf {
    beside(results, ".lock")
}

impl RunMeta {
    /// Writes the sidecar beside `results`.
    pub(crate) fn save(&self, results: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(meta_path(results), text + "\n")
    }

    /// Reads the sidecar beside `results`, if there is one.
    pub(crate) fn load(results: &Path) -> io::Result<Option<RunMeta>> {
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
pub(crate) fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hex(&hash.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The fingerprint of a row's content: 16 hex digits of SHA-256 over `content`, with
/// `#n` appended for the n-th repeat of the same content in one input.
#[cfg(test)]
pub(crate) fn fingerprint(content: &[u8], occurrence: u32) -> String {
    fingerprint_of(content_hash(content), occurrence)
}

/// The first 64 bits of the content's SHA-256: what a fingerprint is made of, and small
/// enough to remember for every row of a large input.
pub(crate) fn content_hash(content: &[u8]) -> u64 {
    let digest = Sha256::digest(content);
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"))
}

/// The content fingerprint of an input row as the ledger records it: the hash of its
/// values (of its place and text for a line that could not be read), with the occurrence
/// counted in `seen` for repeated content. The run and `runner failed` both call this.
pub(crate) fn row_fingerprint(
    item: &Result<crate::source::Row, crate::source::RowError>,
    seen: &mut std::collections::HashMap<u64, u32>,
) -> String {
    let content = match item {
        Ok(row) => serde_json::to_vec(&row.values).unwrap_or_default(),
        Err(e) => format!("{}:{e}", e.line).into_bytes(),
    };
    let hash = content_hash(&content);
    let n = seen.entry(hash).or_insert(0);
    *n += 1;
    fingerprint_of(hash, *n)
}

/// The fingerprint of the `occurrence`-th row with this content hash.
pub(crate) fn fingerprint_of(hash: u64, occurrence: u32) -> String {
    let mut fp = format!("{hash:016x}");
    if occurrence > 1 {
        fp.push('#');
        fp.push_str(&occurrence.to_string());
    }
    fp
}

/// Why a ledger cannot be used.
#[derive(Debug)]
pub(crate) enum LedgerError {
    /// Another process holds the lock.
    Busy {
        /// The results file.
        path: PathBuf,
        /// The holder's process id, when it wrote one.
        pid: Option<u32>,
    },
    /// A file of the ledger cannot be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
    },
    /// A new run would overwrite an existing ledger.
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The manifest (or, for `--resume`, the input) changed since the ledger was written.
    Changed {
        /// The file.
        path: PathBuf,
        /// What changed: `the manifest`, `the input`.
        what: Vec<&'static str>,
    },
    /// The file is not a ledger (a plan, another CSV, an older format).
    NotALedger {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Busy { path, pid } => {
                write!(f, "`{}` is in use by another run", path.display())?;
                match pid {
                    Some(pid) => write!(f, " (process {pid})"),
                    None => Ok(()),
                }?;
                f.write_str(": wait for it to end, or give this run its own --results")
            }
            LedgerError::Io { path, error } => {
                write!(f, "cannot use `{}`: {error}", path.display())
            }
            LedgerError::NotALedger { path, why } => write!(f, "`{}` {why}", path.display()),
            LedgerError::Exists { path } => write!(
                f,
                "`{0}` already holds the ledger of an earlier run; it is never overwritten: \
                 continue it with `--resume {0}` (or `--only-failed {0}`), give this run its \
                 own `--results PATH`, or pass `--replace` to move the old one aside",
                path.display()
            ),
            LedgerError::Changed { path, what } => write!(
                f,
                "{} changed since `{}` was written: continuing could apply rows twice or skip \
                 new ones; pass --force to continue anyway (rows are matched by key and \
                 content, so done rows are still never sent again)",
                what.join(" and "),
                path.display()
            ),
        }
    }
}

impl std::error::Error for LedgerError {}

fn io_at(path: &Path) -> impl Fn(io::Error) -> LedgerError + '_ {
    move |error| LedgerError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// An exclusive lock on a results (or plan) file, held until dropped. The lock is the
/// kernel's (released when the process ends, however it ends); the file only names the
/// holder, and is removed when the lock is dropped (a killed run leaves it, and the next
/// run takes it over).
#[derive(Debug)]
pub(crate) struct Lock {
    file: File,
    path: PathBuf,
}

/// Times a lock is tried again when its file was removed under it.
const LOCK_TRIES: usize = 100;

impl Lock {
    /// Takes the lock of `results` without waiting; refuses when another process holds it.
    pub(crate) fn acquire(results: &Path) -> Result<Lock, LedgerError> {
        if let Some(dir) = results.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        let path = lock_path(results);
        let mut tries = 0;
        let mut file = loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_at(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(LedgerError::Busy {
                        path: results.to_path_buf(),
                        pid: text.trim().parse().ok(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io_at(&path)(e)),
            }
            // A holder removes the file before it lets go: a lock taken on a file no
            // longer at `path` guards nothing, so the file at `path` is opened again.
            if is_at(&file, &path) {
                break file;
            }
            tries += 1;
            if tries == LOCK_TRIES {
                // Other runs keep taking and removing it: it is in use.
                return Err(LedgerError::Busy {
                    path: results.to_path_buf(),
                    pid: None,
                });
            }
        };
        file.set_len(0).map_err(io_at(&path))?;
        file.seek(SeekFrom::Start(0)).map_err(io_at(&path))?;
        writeln!(file, "{}", std::process::id()).map_err(io_at(&path))?;
        Ok(Lock { file, path })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held; the lock goes when the file closes, just after.
        if is_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether the open `file` is the one at `path`.
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
enum Entry {
    /// A write is about to be sent; the cells are the line to record if no outcome
    /// follows.
    #[serde(rename = "intent")]
    Intent(Vec<String>),
    /// The row ended; the cells are its line.
    #[serde(rename = "outcome")]
    Outcome(Vec<String>),
    /// A corrected row runs in place of this line (its identity): drop it.
    #[serde(rename = "drop")]
    Drop(String),
}

/// The write-ahead journal of a run, shared by every row task.
#[derive(Debug)]
pub(crate) struct Journal {
    file: Mutex<File>,
    path: PathBuf,
}

impl Journal {
    /// Opens (creating, keeping what it holds) the journal of `results`.
    pub(crate) fn open(results: &Path) -> io::Result<Journal> {
        let path = journal_path(results);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Journal {
            file: Mutex::new(file),
            path,
        })
    }

    /// Records that a write is about to be sent; `cells` is the line the row gets if the
    /// run dies before its outcome.
    pub(crate) fn intent(&self, cells: Vec<String>) -> io::Result<()> {
        self.append(&Entry::Intent(cells))
    }

    /// Records that the line with identity `id` gives way to a corrected row.
    pub(crate) fn drop_line(&self, id: String) -> io::Result<()> {
        self.append(&Entry::Drop(id))
    }

    /// Records how a row that wrote an intent ended.
    pub(crate) fn outcome(&self, cells: Vec<String>) -> io::Result<()> {
        self.append(&Entry::Outcome(cells))
    }

    fn append(&self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // One write call per line: a line is on disk whole or (if the run dies in the
        // call) torn at the end, which [`compact`] ignores.
        file.write_all(&line)
    }

    /// The journal's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Rows of a ledger per result kind, after [`compact`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Lines per kind.
    pub by_result: std::collections::BTreeMap<ResultKind, u64>,
    /// Rows whose write may or may not have been applied: row number, keys shown, step.
    pub unknown: Vec<(u64, String, String)>,
}

impl Totals {
    /// Lines with the given result.
    pub(crate) fn count(&self, kind: ResultKind) -> u64 {
        self.by_result.get(&kind).copied().unwrap_or(0)
    }

    /// Lines in all.
    pub(crate) fn rows(&self) -> u64 {
        self.by_result.values().sum()
    }
}

/// The header and lines of a ledger as cells.
struct Lines {
    header: Vec<String>,
    result_at: usize,
    /// Identity → cells; the last line (or journal entry) for an identity wins.
    by_id: HashMap<String, Vec<String>>,
    /// Identities in first-seen order.
    order: Vec<String>,
}

impl Lines {
    fn put(&mut self, cells: Vec<String>) {
        let Some(id) = identity_of(&cells) else {
            return;
        };
        if !self.by_id.contains_key(&id) {
            self.order.push(id.clone());
        }
        self.by_id.insert(id, cells);
    }
}

/// `row_key` and `row_fingerprint` of a line, joined (they end every line).
fn identity_of(cells: &[String]) -> Option<String> {
    let n = cells.len();
    if n < IDENTITY_COLUMNS.len() {
        return None;
    }
    Some(format!("{}\u{1f}{}", cells[n - 2], cells[n - 1]))
}

/// The header and the current line of every row of a ledger (its journal folded in), in
/// first-seen order. The caller holds the ledger's lock.
pub(crate) fn current_lines(
    results: &Path,
) -> Result<(Vec<String>, Vec<Vec<String>>), LedgerError> {
    let mut lines = read_lines(results)?;
    let rows = lines
        .order
        .iter()
        .filter_map(|id| lines.by_id.remove(id))
        .collect();
    Ok((lines.header, rows))
}

/// Reads a ledger's CSV (cutting a torn last line) and its journal.
fn read_lines(results: &Path) -> Result<Lines, LedgerError> {
    truncate_torn_line(results).map_err(io_at(results))?;
    let not_ledger = |why: &str| LedgerError::NotALedger {
        path: results.to_path_buf(),
        why: why.to_owned(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(results)
        .map_err(|e| io_at(results)(io::Error::other(e)))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| io_at(results)(io::Error::other(e)))?
        .iter()
        .map(str::to_owned)
        .collect();
    let tail = &header[header.len().saturating_sub(2)..];
    if tail != IDENTITY_COLUMNS || header.first().map(String::as_str) != Some("row") {
        return Err(not_ledger(
            "is not a ledger of this runner (its columns do not end with `row_key, \
             row_fingerprint`)",
        ));
    }
    let result_at = header
        .iter()
        .position(|h| h == "result")
        .ok_or_else(|| not_ledger("has no `result` column"))?;
    let mut lines = Lines {
        header,
        result_at,
        by_id: HashMap::new(),
        order: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| io_at(results)(io::Error::other(e)))?;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.get(result_at).and_then(|r| ResultKind::parse(r)) == Some(ResultKind::Planned) {
            return Err(not_ledger(
                "is a dry run's plan, not a ledger: nothing was sent, so there is nothing to \
                 resume",
            ));
        }
        lines.put(cells);
    }
    let journal = journal_path(results);
    match File::open(&journal) {
        Ok(file) => {
            for line in BufReader::new(file).split(b'\n') {
                let line = line.map_err(io_at(&journal))?;
                // A torn last line is an intent whose write never finished: nothing was
                // sent for it.
                match serde_json::from_slice::<Entry>(&line) {
                    Ok(Entry::Intent(cells) | Entry::Outcome(cells)) => lines.put(cells),
                    Ok(Entry::Drop(id)) => {
                        lines.by_id.remove(&id);
                        lines.order.retain(|o| *o != id);
                    }
                    Err(_) => {}
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_at(&journal)(e)),
    }
    Ok(lines)
}

/// Folds the journal into the CSV: one current line per row, ordered by row number,
/// written to a temporary file, synced and renamed over the CSV; then empties the
/// journal. Returns the totals of the compacted ledger.
pub(crate) fn compact(results: &Path) -> Result<Totals, LedgerError> {
    let lines = read_lines(results)?;
    let mut ordered: Vec<&Vec<String>> = lines.order.iter().map(|id| &lines.by_id[id]).collect();
    let row_of = |cells: &Vec<String>| cells.first().and_then(|r| r.parse::<u64>().ok());
    ordered.sort_by_key(|cells| row_of(cells).unwrap_or(u64::MAX));
    let tmp = beside(results, ".tmp");
    let write = || -> io::Result<()> {
        let file = File::create(&tmp)?;
        let mut out = csv::Writer::from_writer(io::BufWriter::new(file));
        out.write_record(&lines.header)?;
        for cells in &ordered {
            out.write_record(*cells)?;
        }
        let file = out.into_inner().map_err(csv::IntoInnerError::into_error)?;
        file.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&tmp, results)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_at(results)(e));
    }
    let journal = journal_path(results);
    match OpenOptions::new().write(true).open(&journal) {
        Ok(file) => file.set_len(0).map_err(io_at(&journal))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_at(&journal)(e)),
    }
    let mut totals = Totals::default();
    for cells in ordered {
        let Some(kind) = cells
            .get(lines.result_at)
            .and_then(|r| ResultKind::parse(r))
        else {
            continue;
        };
        *totals.by_result.entry(kind).or_default() += 1;
        if kind == ResultKind::Unknown && totals.unknown.len() < 20 {
            let keys = cells[2..lines.result_at].join(", ");
            let step = cells.get(lines.result_at + 2).cloned().unwrap_or_default();
            totals
                .unknown
                .push((row_of(cells).unwrap_or(0), keys, step));
        }
    }
    Ok(totals)
}

/// Which rows a continued run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    /// `--resume`: rows not yet settled or refused (failed in transit, not attempted, new).
    Resume,
    /// `--only-failed`: rows the ledger records as rejected or failed, matched by key so a
    /// corrected input runs with its new content.
    OnlyFailed,
}

/// What a continued run does with one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Run it.
    Run,
    /// Run it in place of the recorded line with this identity (a corrected row).
    Replace(String),
    /// Leave it: the ledger records it so (done, skipped, rejected on resume, unknown).
    Leave(ResultKind),
    /// `--only-failed` on a row the ledger does not know: not run, reported.
    NotInLedger,
}

/// What a ledger recorded, by row identity, for `--resume` and `--only-failed`.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    by_id: HashMap<String, ResultKind>,
    by_key: HashMap<String, Vec<(String, ResultKind)>>,
}

impl Recorded {
    /// Reads a ledger (compact it first so intents are folded in).
    pub(crate) fn load(results: &Path) -> Result<Recorded, LedgerError> {
        let lines = read_lines(results)?;
        let mut recorded = Recorded::default();
        for (id, cells) in &lines.by_id {
            let Some(kind) = cells
                .get(lines.result_at)
                .and_then(|r| ResultKind::parse(r))
            else {
                continue;
            };
            recorded.by_id.insert(id.clone(), kind);
            let key = &cells[cells.len() - 2];
            if !key.is_empty() {
                recorded
                    .by_key
                    .entry(key.clone())
                    .or_default()
                    .push((id.clone(), kind));
            }
        }
        Ok(recorded)
    }

    /// Whether a continued run takes the row with this key and fingerprint. `key` and
    /// `fingerprint` are the cells as written (escaped).
    pub(crate) fn pick(
        &self,
        key: &str,
        fingerprint: &str,
        how: Continue,
        retry_unknown: bool,
    ) -> Pick {
        let runs = |kind: ResultKind| match kind {
            ResultKind::Failed | ResultKind::NotAttempted => true,
            ResultKind::Rejected => how == Continue::OnlyFailed,
            ResultKind::Unknown => retry_unknown,
            ResultKind::Done | ResultKind::Skipped | ResultKind::Planned => false,
        };
        let decide = |kind: ResultKind| {
            if runs(kind) {
                Pick::Run
            } else {
                Pick::Leave(kind)
            }
        };
        if let Some(&kind) = self.by_id.get(&format!("{key}\u{1f}{fingerprint}")) {
            return decide(kind);
        }
        // The content changed (a corrected row): the key says which row it was. When
        // several rows shared the key, the row is run only if none of them is settled
        // or in doubt.
        if !key.is_empty()
            && let Some(kinds) = self.by_key.get(key)
        {
            if let Some((_, kind)) = kinds.iter().find(|(_, k)| !runs(*k)) {
                return Pick::Leave(*kind);
            }
            return match kinds.as_slice() {
                [(old, _)] => Pick::Replace(old.clone()),
                _ => Pick::Run,
            };
        }
        match how {
            Continue::Resume => Pick::Run,
            Continue::OnlyFailed => Pick::NotInLedger,
        }
    }
}

/// Cuts everything after the last newline (a line the killed run did not finish).
fn truncate_torn_line(path: &Path) -> io::Result<()> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
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

/// How a real run uses its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// A new ledger; an existing one is refused, or moved aside with `replace`.
    Fresh {
        /// Move an existing ledger aside instead of refusing.
        replace: bool,
    },
    /// Continue an existing ledger (`--resume`, `--only-failed`).
    Continue {
        /// Which rows run.
        how: Continue,
        /// Continue even though the manifest or the input changed.
        force: bool,
    },
}

/// A ledger ready for a run: locked, recovered, its earlier rows loaded.
#[derive(Debug)]
pub(crate) struct Opened {
    /// Held for the whole run.
    pub lock: Lock,
    /// What the ledger recorded (a continued run).
    pub recorded: Option<Recorded>,
    /// Where an existing ledger was moved (`replace`).
    pub moved_aside: Option<PathBuf>,
}

/// Opens the ledger at `results` for a real run made from `meta`: takes the lock, refuses
/// to overwrite an existing ledger or to continue a file that is not one (a plan), checks
/// what changed, folds a killed run's journal in, and records `meta` beside it.
pub(crate) fn open(results: &Path, meta: &RunMeta, start: Start) -> Result<Opened, LedgerError> {
    let lock = Lock::acquire(results)?;
    let mut opened = Opened {
        lock,
        recorded: None,
        moved_aside: None,
    };
    let exists = results.exists() || meta_path(results).exists();
    match start {
        Start::Fresh { replace } => {
            if exists {
                if !replace {
                    return Err(LedgerError::Exists {
                        path: results.to_path_buf(),
                    });
                }
                opened.moved_aside = Some(move_aside(results).map_err(io_at(results))?);
            }
            let _ = std::fs::remove_file(journal_path(results));
        }
        Start::Continue { how, force } => {
            if !results.exists() {
                return Err(io_at(results)(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no such file",
                )));
            }
            let plan = results.to_string_lossy().ends_with(".plan.csv");
            let Some(before) = RunMeta::load(results).map_err(io_at(&meta_path(results)))? else {
                return Err(LedgerError::NotALedger {
                    path: results.to_path_buf(),
                    why: if plan {
                        "is a dry run's plan, not a ledger: nothing was sent, so there is \
                         nothing to resume"
                            .to_owned()
                    } else {
                        format!(
                            "is not the ledger of a real run (it has no `{}` beside it)",
                            meta_path(results).display()
                        )
                    },
                });
            };
            let mut what = Vec::new();
            if before.manifest_sha256 != meta.manifest_sha256 {
                what.push("the manifest");
            }
            if how == Continue::Resume && before.input_sha256 != meta.input_sha256 {
                what.push("the input");
            }
            if !what.is_empty() && !force {
                return Err(LedgerError::Changed {
                    path: results.to_path_buf(),
                    what,
                });
            }
            compact(results)?;
            opened.recorded = Some(Recorded::load(results)?);
        }
    }
    meta.save(results).map_err(io_at(&meta_path(results)))?;
    Ok(opened)
}

/// Moves an existing results file and its sidecars aside (`NAME.1.csv`, `NAME.2.csv`…)
/// so a new run can start; returns where it went.
pub(crate) fn move_aside(results: &Path) -> io::Result<PathBuf> {
    let stem = results
        .file_stem()
        .map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    let ext = results
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let free = (1..=u32::MAX)
        .map(|n| results.with_file_name(format!("{stem}.{n}{ext}")))
        .find(|p| !p.exists() && !meta_path(p).exists())
        .expect("some number is free");
    std::fs::rename(results, &free)?;
    for (from, to) in [
        (meta_path(results), meta_path(&free)),
        (journal_path(results), journal_path(&free)),
    ] {
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(free)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Columns, RowResult};

    fn line(columns: &Columns, row: u64, kind: ResultKind, key: &str, fp: &str) -> Vec<String> {
        let mut r = RowResult::new(row, row + 1, kind);
        r.keys = vec![key.to_owned()];
        key.clone_into(&mut r.key);
        fp.clone_into(&mut r.fingerprint);
        columns.record(&r)
    }

    fn write_csv(path: &Path, columns: &Columns, lines: &[Vec<String>], tail: &str) {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(columns.names()).unwrap();
        for l in lines {
            out.write_record(l).unwrap();
        }
        let mut bytes = out.into_inner().unwrap();
        bytes.extend_from_slice(tail.as_bytes());
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn compaction_folds_intents_and_outcomes_into_one_line_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let columns = Columns::new(&["email".into()], &[]);
        write_csv(
            &path,
            &columns,
            &[
                line(&columns, 1, ResultKind::Done, "a", "f1"),
                line(&columns, 2, ResultKind::Failed, "b", "f2"),
                line(&columns, 3, ResultKind::Failed, "c", "f3"),
            ],
            "4,5,d,do",
        );
        let journal = Journal::open(&path).unwrap();
        // Row 2 was resent and finished; row 3 was sent and the run died.
        journal
            .intent(line(&columns, 2, ResultKind::Unknown, "b", "f2"))
            .unwrap();
        journal
            .outcome(line(&columns, 2, ResultKind::Done, "b", "f2"))
            .unwrap();
        journal
            .intent(line(&columns, 3, ResultKind::Unknown, "c", "f3"))
            .unwrap();
        drop(journal);
        let mut torn = OpenOptions::new()
            .append(true)
            .open(journal_path(&path))
            .unwrap();
        torn.write_all(b"{\"intent\":[\"4\"").unwrap();
        let totals = compact(&path).unwrap();
        assert_eq!(totals.count(ResultKind::Done), 2);
        assert_eq!(totals.count(ResultKind::Unknown), 1);
        assert_eq!(totals.unknown, [(3, "c".to_owned(), String::new())]);
        assert_eq!(
            totals.rows(),
            3,
            "the torn CSV line and journal line are dropped"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).map(|l| &l[..1]).collect();
        assert_eq!(rows, ["1", "2", "3"]);
        assert_eq!(std::fs::read(journal_path(&path)).unwrap(), b"");
    }

    #[test]
    fn resume_and_only_failed_pick_by_key_and_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let columns = Columns::new(&["email".into()], &[]);
        write_csv(
            &path,
            &columns,
            &[
                line(&columns, 1, ResultKind::Done, "a", "f1"),
                line(&columns, 2, ResultKind::Rejected, "b", "f2"),
                line(&columns, 3, ResultKind::Failed, "c", "f3"),
                line(&columns, 4, ResultKind::Unknown, "d", "f4"),
            ],
            "",
        );
        let rec = Recorded::load(&path).unwrap();
        let resume = |k, f| rec.pick(k, f, Continue::Resume, false);
        let only = |k, f| rec.pick(k, f, Continue::OnlyFailed, false);
        assert_eq!(resume("a", "f1"), Pick::Leave(ResultKind::Done));
        assert_eq!(resume("b", "f2"), Pick::Leave(ResultKind::Rejected));
        assert_eq!(resume("c", "f3"), Pick::Run);
        assert_eq!(resume("d", "f4"), Pick::Leave(ResultKind::Unknown));
        assert_eq!(resume("e", "f5"), Pick::Run, "never reached");
        assert_eq!(
            only("b", "changed"),
            Pick::Replace("b\u{1f}f2".to_owned()),
            "a corrected row"
        );
        assert_eq!(only("a", "changed"), Pick::Leave(ResultKind::Done));
        assert_eq!(only("e", "f5"), Pick::NotInLedger);
        assert_eq!(only("d", "f4"), Pick::Leave(ResultKind::Unknown));
        assert_eq!(rec.pick("d", "f4", Continue::Resume, true), Pick::Run);
    }

    #[test]
    fn a_plan_or_a_foreign_csv_is_not_a_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let columns = Columns::new(&[], &[]);
        write_csv(
            &path,
            &columns,
            &[line(&columns, 1, ResultKind::Planned, "", "")],
            "",
        );
        let err = Recorded::load(&path).unwrap_err().to_string();
        assert!(err.contains("is a dry run's plan"), "{err}");
        std::fs::write(&path, "row,line,result\n1,2,done\n").unwrap();
        let err = Recorded::load(&path).unwrap_err().to_string();
        assert!(err.contains("is not a ledger"), "{err}");
    }

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let held = Lock::acquire(&path).unwrap();
        let err = Lock::acquire(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(held);
        assert!(
            !dir.path().join("r.csv.lock").exists(),
            "removed when dropped"
        );
        let again = Lock::acquire(&path).unwrap();
        assert!(dir.path().join("r.csv.lock").exists());
        // A lock file left by a killed run (here: no one holds it) is taken over.
        drop(again);
        std::fs::write(dir.path().join("r.csv.lock"), "999999\n").unwrap();
        let taken = Lock::acquire(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("r.csv.lock")).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(taken);
    }

    #[test]
    fn a_locked_file_no_longer_at_the_path_does_not_hold_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let lock_file = dir.path().join("r.csv.lock");
        // Another process opened the lock file, then the holder removed it and let go:
        // the opened file is locked by nobody and named by no path.
        let stale = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_file)
            .unwrap();
        std::fs::remove_file(&lock_file).unwrap();
        stale.try_lock().unwrap();
        assert!(!is_at(&stale, &lock_file));
        // A run now takes the lock at the path, not the stale one.
        let lock = Lock::acquire(&path).unwrap();
        assert!(is_at(&lock.file, &lock_file));
        let err = Lock::acquire(&path).unwrap_err().to_string();
        assert!(err.contains("in use by another run"), "{err}");
    }

    #[test]
    fn fingerprints_differ_by_content_and_occurrence() {
        assert_eq!(fingerprint(b"a", 1).len(), 16);
        assert_ne!(fingerprint(b"a", 1), fingerprint(b"b", 1));
        assert_eq!(fingerprint(b"a", 2), format!("{}#2", fingerprint(b"a", 1)));
    }

    #[test]
    fn moving_aside_keeps_the_old_ledger_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, "x").unwrap();
        std::fs::write(meta_path(&path), "{}").unwrap();
        let moved = move_aside(&path).unwrap();
        assert_eq!(moved, dir.path().join("r.1.csv"));
        assert!(!path.exists() && meta_path(&moved).exists());
    }
}
