//! One file's coverage: its listed lines packed four bytes each, its branch lines, its
//! functions; how parsers fill it and how two of them merge.
//!
//! Lines are kept sorted so lookups are binary searches; what a parser records out of order is
//! sorted in and merged in batches, so memory stays proportional to the lines listed. Nothing
//! here counts against limits: callers count the entries each call reports added.

use super::{LineStatus, Ratio};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::LazyLock;

/// Branch data for one line: how many branches, and which were taken (12 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchLine {
    /// Source line.
    pub line: u32,
    /// Taken branches by their order on the line (first 32).
    mask: u32,
    total: u16,
    /// Taken branches beyond the first 32.
    extra: u16,
}

/// Branches per line tracked individually; more are counted.
const MASK_BITS: u32 = 32;

impl BranchLine {
    /// Branches on the line.
    pub fn total(&self) -> u32 {
        u32::from(self.total)
    }

    /// Branches taken at least once.
    pub fn taken(&self) -> u32 {
        (self.mask.count_ones() + u32::from(self.extra)).min(self.total())
    }

    fn empty(line: u32) -> Self {
        BranchLine {
            line,
            mask: 0,
            total: 0,
            extra: 0,
        }
    }

    fn merge(&mut self, other: &BranchLine) {
        self.total = self.total.max(other.total);
        self.mask |= other.mask;
        self.extra = self.extra.max(other.extra);
    }
}

/// The highest line number the packed line entries can hold; parsers cap
/// [`crate::Limits::max_line_number`] at it.
pub(crate) const LINE_CEILING: u32 = u32::MAX >> 1;

/// Entries a file may hold out of order, beyond as many as it holds in order, before they are
/// sorted in (small under test, so the tests sort often).
const UNSORTED_SLACK: usize = if cfg!(test) { 4 } else { 1024 };

/// Coverage of one source file.
///
/// Lines are one `u32` each, `line << 1 | covered`: once finished, strictly ascending by line
/// (so a lookup is a binary search). While a parser fills it, entries after `lines_sorted`
/// came out of order and may repeat a line; they are sorted in and merged when there are more
/// of them than sorted ones (so memory stays within about twice the lines listed) and when
/// the report is finished. Branch lines follow the same scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// The path as the report names it (or, after mapping, the repository path).
    pub path: String,
    lines: Vec<u32>,
    lines_sorted: usize,
    branches: Vec<BranchLine>,
    branches_sorted: usize,
    /// Hits per function, keyed by a keyed hash of its name (see [`function_key`]).
    functions: HashMap<u64, u64, BuildHasherDefault<KeyHasher>>,
}

/// A function's identity: its name hashed with a key drawn once per process, so names need no
/// allocation and a crafted report cannot force collisions.
fn function_key(name: &[u8]) -> u64 {
    static KEY: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    KEY.hash_one(name)
}

/// Passes an already-keyed hash through.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl FileCoverage {
    pub(super) fn new(path: String) -> Self {
        FileCoverage {
            path,
            ..FileCoverage::default()
        }
    }

    /// What the report says about `line`.
    pub fn line(&self, line: u32) -> LineStatus {
        debug_assert!(self.is_sorted(), "call CoverageReport::finish first");
        let Ok(i) = self.lines.binary_search_by_key(&line, |e| e >> 1) else {
            return LineStatus::NotCoverable;
        };
        if self.lines[i] & 1 == 0 {
            return LineStatus::Missed;
        }
        match self.branch(line) {
            Some(b) if b.taken() < b.total() => LineStatus::Partial,
            _ => LineStatus::Covered,
        }
    }

    /// Branch data of `line`, if it has branches.
    pub fn branch(&self, line: u32) -> Option<&BranchLine> {
        debug_assert!(self.is_sorted(), "call CoverageReport::finish first");
        self.branches
            .binary_search_by_key(&line, |b| b.line)
            .ok()
            .map(|i| &self.branches[i])
    }

    /// Covered and coverable lines.
    pub fn lines(&self) -> Ratio {
        debug_assert!(self.is_sorted(), "call CoverageReport::finish first");
        let covered = self.lines.iter().filter(|&&e| e & 1 == 1).count();
        Ratio::new(covered as u64, self.lines.len() as u64)
    }

    /// Taken and total branches.
    pub fn branches(&self) -> Ratio {
        self.branches.iter().fold(Ratio::default(), |mut r, b| {
            r.add(Ratio::new(u64::from(b.taken()), u64::from(b.total())));
            r
        })
    }

    /// Functions executed at least once, and functions listed.
    pub fn functions(&self) -> Ratio {
        let hit = self.functions.values().filter(|&&h| h > 0).count() as u64;
        Ratio::new(hit, self.functions.len() as u64)
    }

    /// Heap bytes this file holds, estimated from its buffers' capacities.
    pub fn heap_bytes(&self) -> usize {
        self.path.capacity()
            + self.lines.capacity() * size_of::<u32>()
            + self.branches.capacity() * size_of::<BranchLine>()
            + hash_table_bytes(self.functions.capacity(), size_of::<(u64, u64)>())
    }

    /// Marks `line` (at most [`LINE_CEILING`]) coverable, and covered when `covered`.
    /// Returns the entries added (0 or 1).
    #[inline(always)]
    pub(crate) fn set_line(&mut self, line: u32, covered: bool) -> u64 {
        debug_assert!(line <= LINE_CEILING);
        let entry = (line << 1) | u32::from(covered);
        if self.lines_sorted == self.lines.len() {
            match self.lines.last_mut() {
                Some(last) if *last >> 1 == line => {
                    *last |= entry;
                    return 0;
                }
                Some(last) if *last >> 1 > line => {}
                _ => {
                    self.lines.push(entry);
                    self.lines_sorted += 1;
                    return 1;
                }
            }
        }
        self.set_line_out_of_order(entry)
    }

    #[cold]
    fn set_line_out_of_order(&mut self, entry: u32) -> u64 {
        if let Some(held) = self.sorted_line_mut(entry >> 1) {
            *held |= entry;
            return 0;
        }
        if self.lines.len() - self.lines_sorted > self.lines_sorted.max(UNSORTED_SLACK) {
            self.sort_lines();
            if let Some(held) = self.sorted_line_mut(entry >> 1) {
                *held |= entry;
                return 0;
            }
        }
        self.lines.push(entry);
        1
    }

    fn sorted_line_mut(&mut self, line: u32) -> Option<&mut u32> {
        let sorted = &mut self.lines[..self.lines_sorted];
        let i = sorted.binary_search_by_key(&line, |e| e >> 1).ok()?;
        Some(&mut sorted[i])
    }

    /// Records branch number `ordinal` (0-based, in order on the line) of `line`. Returns the
    /// entries added (0 or 1).
    #[inline(always)]
    pub(crate) fn set_branch(&mut self, line: u32, ordinal: u32, taken: bool) -> u64 {
        let (entry, added) = match self.branches.last_mut() {
            Some(last) if last.line == line && ordinal > 0 => (last, 0),
            _ => (self.push_branch(BranchLine::empty(line)), 1),
        };
        let count = u16::try_from(ordinal.saturating_add(1)).unwrap_or(u16::MAX);
        entry.total = entry.total.max(count);
        if taken {
            if ordinal < MASK_BITS {
                entry.mask |= 1 << ordinal;
            } else {
                entry.extra = entry.extra.saturating_add(1);
            }
        }
        added
    }

    /// Records `taken` of `total` branches on `line` when the format gives only counts.
    /// Returns the entries added (1).
    pub(crate) fn set_branch_counts(&mut self, line: u32, taken: u32, total: u32) -> u64 {
        let total = u16::try_from(total).unwrap_or(u16::MAX);
        let taken = taken.min(u32::from(total));
        let entry = self.push_branch(BranchLine::empty(line));
        entry.total = total;
        entry.mask = if taken >= MASK_BITS {
            u32::MAX
        } else {
            (1u32 << taken) - 1
        };
        entry.extra = u16::try_from(taken.saturating_sub(MASK_BITS)).unwrap_or(u16::MAX);
        1
    }

    /// Appends `b` (sorting in earlier out-of-order entries first when there are too many)
    /// and returns it, so a caller can go on filling it in.
    fn push_branch(&mut self, b: BranchLine) -> &mut BranchLine {
        let unsorted = self.branches.len() - self.branches_sorted;
        if !self.branch_in_order(b.line) && unsorted > self.branches_sorted.max(UNSORTED_SLACK) {
            self.sort_branches();
        }
        if self.branch_in_order(b.line) {
            self.branches_sorted += 1;
        }
        self.branches.push(b);
        let last = self.branches.len() - 1;
        &mut self.branches[last]
    }

    /// Whether a branch line for `line` appended now keeps the branches sorted.
    fn branch_in_order(&self, line: u32) -> bool {
        self.branches_sorted == self.branches.len()
            && self.branches.last().is_none_or(|last| last.line < line)
    }

    /// Records a function (hits add up over records). Returns the entries added (0 or 1).
    pub(crate) fn add_function(&mut self, name: &[u8], hits: u64) -> u64 {
        self.add_function_key(function_key(name), hits)
    }

    fn add_function_key(&mut self, key: u64, hits: u64) -> u64 {
        let before = self.functions.len();
        let h = self.functions.entry(key).or_insert(0);
        *h = h.saturating_add(hits);
        (self.functions.len() - before) as u64
    }

    pub(super) fn merge(&mut self, other: &FileCoverage) {
        if !other.lines.is_empty() {
            self.lines.extend_from_slice(&other.lines);
            self.sort_lines();
        }
        if !other.branches.is_empty() {
            self.branches.extend_from_slice(&other.branches);
            self.sort_branches();
        }
        for (&key, &hits) in &other.functions {
            self.add_function_key(key, hits);
        }
    }

    /// Entries held: lines, branch lines and functions.
    pub(super) fn entries(&self) -> u64 {
        (self.lines.len() + self.branches.len() + self.functions.len()) as u64
    }

    fn is_sorted(&self) -> bool {
        self.lines_sorted == self.lines.len() && self.branches_sorted == self.branches.len()
    }

    fn sort_lines(&mut self) {
        sort_merge(
            &mut self.lines,
            |e| e >> 1,
            |kept, later| *kept |= later & 1,
        );
        self.lines_sorted = self.lines.len();
    }

    fn sort_branches(&mut self) {
        sort_merge(&mut self.branches, |b| b.line, BranchLine::merge);
        self.branches_sorted = self.branches.len();
    }

    /// Sorts in what came out of order and gives back spare capacity.
    pub(super) fn finish(&mut self) {
        if self.lines_sorted != self.lines.len() {
            self.sort_lines();
        }
        if self.branches_sorted != self.branches.len() {
            self.sort_branches();
        }
        self.lines.shrink_to_fit();
        self.branches.shrink_to_fit();
    }
}

/// Sorts `items` by `key` (a stable sort, which merges an already sorted prefix and sorted
/// runs in linear time) and merges each run of equal keys into its first entry.
fn sort_merge<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u32, merge: impl Fn(&mut T, &T)) {
    items.sort_by_key(&key);
    items.dedup_by(|later, kept| {
        let same = key(later) == key(kept);
        if same {
            merge(kept, later);
        }
        same
    });
}

/// Heap bytes of a `HashMap` with `capacity` entries of `entry` bytes: its buckets (a power
/// of two, at most 7/8 full) and a control byte each.
pub(super) fn hash_table_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).max(4).next_power_of_two();
    buckets * (entry + 1)
}
