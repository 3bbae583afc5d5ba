//! The duplicate check's claims: 64-bit keys, each with the first row that claimed it,
//! held in memory up to a bound and past it in sorted runs in temporary files, so that a
//! dry run of millions of creates keeps a few megabytes whatever its length.
//!
//! A run is an unlinked temporary file beside the results (on the disk the run writes
//! to), of `(key, row)` pairs sorted by key, 16 bytes each. Memory keeps, per run, a
//! Bloom filter (12 bits a key) and the first key of each 4 KiB block: a lookup that the
//! filters rule out reads no file (nearly all of them, since duplicates are rare), and
//! one they let through reads one block. Runs are merged [`FANOUT`] at a time, so a
//! lookup asks a few filters however many claims there are. When a temporary file cannot
//! be written, the claims stay in memory: the check stays exact and only the memory bound
//! is lost (said as a warning).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// Claims held in memory before they are written out as a run: a table of this many
/// fills 2^15 slots (about 0.5 MB).
pub(super) const IN_MEMORY: usize = 28_672;

/// Runs of one size merged into one of the next.
const FANOUT: usize = 8;

/// Bytes of one `(key, row)` pair in a run.
const ENTRY: usize = 16;

/// Pairs in one block of a run: the unit a lookup reads.
const BLOCK: usize = 256;

/// Pairs read at a time from each run while merging.
const MERGE_READ: usize = 4096;

/// Bloom filter bits per key of a run (about 0.5% false positives).
const BLOOM_BITS: usize = 12;

/// The claims: keys to the first row that claimed each.
#[derive(Debug)]
pub(super) struct Claims {
    /// The latest claims, up to `limit`.
    memory: HashMap<u64, u64, BuildHasherDefault<Prehashed>>,
    /// Older claims, largest (oldest) first.
    runs: Vec<Run>,
    /// Claims kept in memory before a run is written; unbounded once writing failed.
    limit: usize,
    /// Whether full levels of runs are merged; not once a merge failed.
    merging: bool,
    /// Where runs are written.
    dir: PathBuf,
    /// A block read from a run, reused.
    block: Vec<u8>,
}

impl Claims {
    /// No claims; at most `limit` of them in memory, the rest in files in `dir`.
    pub(super) fn new(limit: usize, dir: PathBuf) -> Self {
        Claims {
            memory: HashMap::default(),
            runs: Vec::new(),
            limit: limit.max(1),
            merging: true,
            dir,
            block: Vec::new(),
        }
    }

    /// The first row that claimed `key`: `row`, when none did before (it is then
    /// recorded as the claim's).
    ///
    /// # Errors
    /// A run's file could not be read back: whether `key` was claimed is not known.
    pub(super) fn claim(&mut self, key: u64, row: u64) -> io::Result<u64> {
        if let Some(&first) = self.memory.get(&key) {
            return Ok(first);
        }
        for run in &self.runs {
            if let Some(first) = run.get(key, &mut self.block)? {
                return Ok(first);
            }
        }
        self.memory.insert(key, row);
        if self.memory.len() >= self.limit {
            self.spill();
        }
        Ok(row)
    }

    /// Writes the claims in memory out as a run, and merges full levels of runs.
    fn spill(&mut self) {
        let mut pairs: Vec<(u64, u64)> = self.memory.drain().collect();
        pairs.sort_unstable();
        match Run::write(&self.dir, 0, pairs.len(), pairs.iter().copied().map(Ok)) {
            Ok(run) => self.runs.push(run),
            Err(err) => {
                // Kept in memory instead, and from now on: exact, without the bound.
                self.memory.extend(pairs);
                self.limit = usize::MAX;
                tracing::warn!(
                    error = %err,
                    "the duplicate check could not write its temporary file; its claims stay in memory"
                );
                return;
            }
        }
        while let Some(start) = self.full_level().filter(|_| self.merging) {
            match Run::merge(&self.dir, &self.runs[start..]) {
                Ok(merged) => {
                    self.runs.truncate(start);
                    self.runs.push(merged);
                }
                Err(err) => {
                    // The runs stay as they are, and later ones too: lookups ask more
                    // filters.
                    self.merging = false;
                    tracing::warn!(error = %err, "the duplicate check could not merge its temporary files");
                }
            }
        }
    }

    /// Where the last [`FANOUT`] runs start, when they are all of one level.
    fn full_level(&self) -> Option<usize> {
        let start = self.runs.len().checked_sub(FANOUT)?;
        let level = self.runs[start].level;
        self.runs[start..]
            .iter()
            .all(|run| run.level == level)
            .then_some(start)
    }

    /// Claims held in files (for tests).
    #[cfg(test)]
    fn on_disk(&self) -> (usize, u64) {
        (self.runs.len(), self.runs.iter().map(|run| run.len).sum())
    }
}

/// Sorted pairs in a file, with what memory keeps to find one.
#[derive(Debug)]
struct Run {
    file: File,
    /// Pairs in the file.
    len: u64,
    /// Merges it took to make: runs of one level are of one size.
    level: u32,
    bloom: Bloom,
    /// The first key of each block.
    firsts: Vec<u64>,
}

impl Run {
    /// Writes `len` pairs, sorted by key, as a run of `level`.
    fn write(
        dir: &Path,
        level: u32,
        len: usize,
        pairs: impl Iterator<Item = io::Result<(u64, u64)>>,
    ) -> io::Result<Run> {
        let file = tempfile::tempfile_in(dir)?;
        let mut bloom = Bloom::new(len);
        let mut firsts = Vec::with_capacity(len.div_ceil(BLOCK));
        let mut out = BufWriter::with_capacity(MERGE_READ * ENTRY, &file);
        let mut written = 0usize;
        for pair in pairs {
            let (key, row) = pair?;
            if written.is_multiple_of(BLOCK) {
                firsts.push(key);
            }
            bloom.insert(key);
            out.write_all(&key.to_le_bytes())?;
            out.write_all(&row.to_le_bytes())?;
            written += 1;
        }
        out.flush()?;
        drop(out);
        Ok(Run {
            file,
            len: written as u64,
            level,
            bloom,
            firsts,
        })
    }

    /// The runs merged into one of the next level.
    fn merge(dir: &Path, runs: &[Run]) -> io::Result<Run> {
        let mut readers: Vec<Reader> = runs.iter().map(Reader::new).collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some((key, row)) = reader.next()? {
                heap.push(Reverse((key, row, i)));
            }
        }
        let pairs = std::iter::from_fn(|| {
            let Reverse((key, row, i)) = heap.pop()?;
            Some(readers[i].next().map(|next| {
                if let Some((k, r)) = next {
                    heap.push(Reverse((k, r, i)));
                }
                (key, row)
            }))
        });
        let len = runs.iter().map(|run| run.len).sum::<u64>();
        let level = runs.iter().map(|run| run.level).max().unwrap_or(0) + 1;
        Run::write(
            dir,
            level,
            usize::try_from(len).unwrap_or(usize::MAX),
            pairs,
        )
    }

    /// The row of `key`, when the run has it; `block` is scratch space.
    fn get(&self, key: u64, block: &mut Vec<u8>) -> io::Result<Option<u64>> {
        if !self.bloom.may_hold(key) {
            return Ok(None);
        }
        let Some(index) = self
            .firsts
            .partition_point(|&first| first <= key)
            .checked_sub(1)
        else {
            return Ok(None);
        };
        let start = (index * BLOCK) as u64;
        let count = (self.len - start).min(BLOCK as u64);
        block.resize(usize::try_from(count).unwrap_or_default() * ENTRY, 0);
        self.file.read_exact_at(block, start * ENTRY as u64)?;
        Ok(block
            .chunks_exact(ENTRY)
            .map(pair_of)
            .find(|&(k, _)| k == key)
            .map(|(_, row)| row))
    }
}

/// A pair from its 16 bytes.
fn pair_of(bytes: &[u8]) -> (u64, u64) {
    let (key, row) = bytes.split_at(8);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    (word(key), word(row))
}

/// Reads a run's pairs in order, [`MERGE_READ`] at a time.
struct Reader<'r> {
    run: &'r Run,
    /// The next pair to read from the file.
    next: u64,
    buffer: Vec<u8>,
    /// The next pair's offset in `buffer`.
    at: usize,
}

impl<'r> Reader<'r> {
    fn new(run: &'r Run) -> Self {
        Reader {
            run,
            next: 0,
            buffer: Vec::new(),
            at: 0,
        }
    }

    fn next(&mut self) -> io::Result<Option<(u64, u64)>> {
        if self.at == self.buffer.len() {
            let count = (self.run.len - self.next).min(MERGE_READ as u64);
            if count == 0 {
                return Ok(None);
            }
            self.buffer
                .resize(usize::try_from(count).unwrap_or_default() * ENTRY, 0);
            self.run
                .file
                .read_exact_at(&mut self.buffer, self.next * ENTRY as u64)?;
            self.next += count;
            self.at = 0;
        }
        let pair = pair_of(&self.buffer[self.at..self.at + ENTRY]);
        self.at += ENTRY;
        Ok(Some(pair))
    }
}

/// A split-block Bloom filter (as Parquet's): eight bits of one 32-byte block per key.
#[derive(Debug)]
struct Bloom {
    blocks: Vec<[u32; 8]>,
}

/// Odd multipliers that pick a key's bit in each word of its block.
const SALT: [u32; 8] = [
    0x47b6_137b,
    0x4497_4d91,
    0x8824_ad5b,
    0xa2b7_289d,
    0x7054_95c7,
    0x2df1_424b,
    0x9efc_4947,
    0x5c6b_fb31,
];

impl Bloom {
    fn new(keys: usize) -> Self {
        Bloom {
            blocks: vec![[0; 8]; (keys * BLOOM_BITS).div_ceil(256).max(1)],
        }
    }

    /// The key's block, from its high half, and its bit in each word, from its low half
    /// (keys are hashes already).
    fn place(&self, key: u64) -> (usize, [u32; 8]) {
        let block = ((key >> 32) * self.blocks.len() as u64) >> 32;
        #[allow(clippy::cast_possible_truncation)] // the low half
        let low = key as u32;
        (
            usize::try_from(block).unwrap_or_default(),
            SALT.map(|salt| 1 << (low.wrapping_mul(salt) >> 27)),
        )
    }

    fn insert(&mut self, key: u64) {
        let (block, bits) = self.place(key);
        for (word, bit) in self.blocks[block].iter_mut().zip(bits) {
            *word |= bit;
        }
    }

    fn may_hold(&self, key: u64) -> bool {
        let (block, bits) = self.place(key);
        self.blocks[block]
            .iter()
            .zip(bits)
            .all(|(word, bit)| word & bit != 0)
    }
}

/// Keys are hashes already: taken as they are instead of being hashed again.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, DefaultHasher};

    fn key(i: u64) -> u64 {
        BuildHasherDefault::<DefaultHasher>::default().hash_one(i)
    }

    #[test]
    fn first_claims_are_found_in_memory_in_runs_and_in_merged_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut claims = Claims::new(100, dir.path().to_owned());
        // 10,000 ids: 100 runs' worth, so levels 0, 1 and 2 exist.
        for i in 0..10_000 {
            assert_eq!(claims.claim(key(i), i).unwrap(), i, "new id {i}");
        }
        let (runs, on_disk) = claims.on_disk();
        assert_eq!(on_disk + claims.memory.len() as u64, 10_000);
        assert!(claims.memory.len() < 100, "the rest went to disk");
        assert!(runs < 16, "runs were merged: {runs}");
        assert!(claims.runs.iter().any(|run| run.level == 2));
        // Every id again, by later rows: each answers the first row, wherever it is.
        for i in (0..10_000).rev() {
            assert_eq!(
                claims.claim(key(i), 50_000 + i).unwrap(),
                i,
                "repeat of {i}"
            );
        }
        // Nothing was added by the repeats.
        assert_eq!(claims.on_disk().1 + claims.memory.len() as u64, 10_000);
        // The files are unlinked: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn claims_agree_with_a_map_over_a_mixed_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let mut claims = Claims::new(37, dir.path().to_owned());
        let mut reference = HashMap::new();
        // Ids repeat at irregular distances: some within the memory, most across runs.
        for row in 0..20_000u64 {
            let id = (row * 7919) % 6_007;
            let first = *reference.entry(id).or_insert(row);
            assert_eq!(
                claims.claim(key(id), row).unwrap(),
                first,
                "row {row}, id {id}"
            );
        }
        assert_eq!(
            claims.on_disk().1 + claims.memory.len() as u64,
            reference.len() as u64
        );
    }

    #[test]
    fn a_directory_that_cannot_be_written_keeps_the_claims_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone");
        let mut claims = Claims::new(10, missing);
        for i in 0..1_000 {
            assert_eq!(claims.claim(key(i), i).unwrap(), i);
        }
        assert_eq!(claims.on_disk(), (0, 0));
        assert_eq!(claims.memory.len(), 1_000);
        for i in 0..1_000 {
            assert_eq!(claims.claim(key(i), i + 1).unwrap(), i);
        }
    }

    #[test]
    fn a_directory_gone_part_way_keeps_later_claims_in_memory_and_earlier_ones_readable() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("results");
        std::fs::create_dir(&sub).unwrap();
        let mut claims = Claims::new(10, sub.clone());
        for i in 0..50 {
            assert_eq!(claims.claim(key(i), i).unwrap(), i);
        }
        assert_eq!(claims.on_disk(), (5, 50));
        // The runs' files stay open; new ones cannot be made.
        std::fs::remove_dir(&sub).unwrap();
        for i in 50..500 {
            assert_eq!(claims.claim(key(i), i).unwrap(), i);
        }
        assert_eq!(claims.on_disk(), (5, 50), "no run was added");
        assert_eq!(claims.memory.len(), 450);
        for i in 0..500 {
            assert_eq!(claims.claim(key(i), 1_000 + i).unwrap(), i, "repeat of {i}");
        }
    }

    #[test]
    fn the_bloom_filter_holds_every_key_and_rejects_most_others() {
        let mut bloom = Bloom::new(10_000);
        for i in 0..10_000 {
            bloom.insert(key(i));
        }
        assert!((0..10_000).all(|i| bloom.may_hold(key(i))));
        let false_positives = (10_000..110_000)
            .filter(|&i| bloom.may_hold(key(i)))
            .count();
        assert!(
            false_positives < 2_000,
            "{false_positives} of 100,000 absent keys pass"
        );
    }
}
