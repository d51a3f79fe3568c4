//! Unified diffs → the files a change touches and the line numbers it adds.
//!
//! Reads `git diff` output (renames, copies, deletions, binary files, mode changes, quoted paths,
//! `\ No newline at end of file`, CRLF) and GitHub's header-less per-file `patch`. Hunk line
//! counts decide where a hunk ends, so content lines that look like headers are read as content.
//! Malformed parts become diagnostics; only input with no recognisable diff at all is an error.
//! A hunk whose body disagrees with its header (fewer or more lines, a header that cannot be
//! read) could hide added lines, so it is never passed over: [`parse_diff`] marks the diff
//! [`Diff::incomplete`] (which fails the evaluation) and [`parse_file_patch`] returns
//! [`DiffError::HunkMismatch`].

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use serde::{Deserialize, Serialize};

/// What happened to a file in a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// New file.
    Added,
    /// Changed in place.
    Modified,
    /// Removed.
    Deleted,
    /// Moved, possibly with changes.
    Renamed,
    /// Copied from another file, possibly with changes.
    Copied,
}

/// One file's part of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiff {
    /// Repository path on the new side (the old path for a deleted file).
    pub path: String,
    /// The previous path of a renamed or copied file.
    pub old_path: Option<String>,
    /// What happened to the file.
    pub status: FileStatus,
    /// The diff carries no text hunks because the file is binary.
    pub binary: bool,
    /// The host left the patch out (GitHub does for very large files): added lines are unknown.
    pub patch_missing: bool,
    /// New-side line numbers of added lines, ascending.
    pub added_lines: Vec<u32>,
    /// Number of added lines.
    pub added: u32,
    /// Number of removed lines.
    pub removed: u32,
    /// The text of the added lines, parallel to `added_lines` (for marker and suppression
    /// counts; CRLF endings dropped, invalid UTF-8 replaced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_text: Vec<String>,
    /// The text of the removed lines, in diff order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_text: Vec<String>,
}

/// A diff line's content without its `+`/`-` and line ending.
fn line_text(line: &[u8]) -> String {
    let body = line.get(1..).unwrap_or_default();
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    String::from_utf8_lossy(body).into_owned()
}

impl FileDiff {
    fn new(path: String, status: FileStatus) -> Self {
        FileDiff {
            path,
            old_path: None,
            status,
            binary: false,
            patch_missing: false,
            added_lines: Vec::new(),
            added: 0,
            removed: 0,
            added_text: Vec::new(),
            removed_text: Vec::new(),
        }
    }
}

/// A parsed diff: its files in order, and notes on anything that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// The files, in the order the diff lists them.
    pub files: Vec<FileDiff>,
    /// Parts that were skipped, with the diff line they were on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
    /// Why the list of files is known to be incomplete (the host listed fewer files than the
    /// change has). A change that cannot be seen whole cannot pass: the evaluation fails it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

impl Diff {
    /// The file at `path` on the new side, if the diff touches it.
    pub fn file(&self, path: &str) -> Option<&FileDiff> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Added plus removed lines over all files.
    pub fn changed_lines(&self) -> u64 {
        self.files
            .iter()
            .map(|f| u64::from(f.added) + u64::from(f.removed))
            .sum()
    }
}

/// Why a diff could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// Over the configured size limit.
    #[error("diff is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Bytes given.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not empty, yet no file header or hunk was found.
    #[error("not a unified diff: no `diff --git`, `---`/`+++` or `@@` header found")]
    NotADiff,
    /// A hunk's body disagrees with its `@@` header (a per-file patch only; a whole diff
    /// records this in [`Diff::incomplete`]).
    #[error("patch line {line}: {problem}")]
    HunkMismatch {
        /// 1-based line of the patch where the disagreement shows.
        line: u64,
        /// What disagrees.
        problem: String,
    },
}

/// Parses `git diff` (or plain `diff -u`) output. `name` labels diagnostics.
pub fn parse_diff(name: &str, input: &[u8], limits: &Limits) -> Result<Diff, DiffError> {
    check_size(input, limits)?;
    let mut parser = Parser::new(name, limits);
    for (index, raw) in lines(input).enumerate() {
        parser.line(index as u64 + 1, strip_cr(raw));
    }
    let (mut diff, mismatch) = parser.finish();
    if diff.files.is_empty() && input.iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(DiffError::NotADiff);
    }
    if let Some((line, problem)) = mismatch {
        diff.incomplete = Some(format!(
            "the diff is damaged at line {line} of `{name}`: {problem}"
        ));
    }
    Ok(diff)
}

/// Parses one file's header-less patch as the GitHub API gives it (`@@` hunks only).
/// `patch = None` records the file with [`FileDiff::patch_missing`] set.
pub fn parse_file_patch(
    path: &str,
    status: FileStatus,
    patch: Option<&[u8]>,
    limits: &Limits,
) -> Result<FileDiff, DiffError> {
    let Some(patch) = patch else {
        let mut file = FileDiff::new(path.to_owned(), status);
        file.patch_missing = true;
        return Ok(file);
    };
    check_size(patch, limits)?;
    let mut parser = Parser::new(path, limits);
    parser.current = Some(FileDiff::new(path.to_owned(), status));
    parser.header_phase = false;
    for (index, raw) in lines(patch).enumerate() {
        parser.line(index as u64 + 1, strip_cr(raw));
    }
    let (mut diff, mismatch) = parser.finish();
    if let Some((line, problem)) = mismatch {
        return Err(DiffError::HunkMismatch { line, problem });
    }
    Ok(diff
        .files
        .pop()
        .unwrap_or_else(|| FileDiff::new(path.to_owned(), status)))
}

fn check_size(input: &[u8], limits: &Limits) -> Result<(), DiffError> {
    let size = input.len() as u64;
    if size > limits.diff_bytes {
        return Err(DiffError::TooLarge {
            size,
            limit: limits.diff_bytes,
        });
    }
    Ok(())
}

/// The lines of `input`. A final line ending ends the last line; it does not start an empty
/// one (which a hunk would otherwise read as a blank context line).
fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input
        .strip_suffix(b"\n")
        .unwrap_or(input)
        .split(|&b| b == b'\n')
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

struct Hunk {
    old_left: u32,
    new_left: u32,
    next_new: u32,
}

impl Hunk {
    /// What the header still promises, for a hunk that stops early.
    fn missing(&self) -> String {
        format!(
            "{} old and {} new lines missing",
            self.old_left, self.new_left
        )
    }
}

/// A line that can only belong to a hunk: added, removed or context. `-- ` alone is the
/// signature separator `git format-patch` writes after the last hunk.
fn is_hunk_body(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'+' | b'-' | b' ')) && line != b"-- "
}

struct Parser<'a> {
    name: &'a str,
    files: Vec<FileDiff>,
    current: Option<FileDiff>,
    /// Between a file's first header line and its first hunk.
    header_phase: bool,
    /// The current file was opened by `---` (plain unified diff), not `diff --git`.
    saw_minus_header: bool,
    hunk: Option<Hunk>,
    diagnostics: Vec<Diagnostic>,
    max_diagnostics: usize,
    /// The first place where a hunk and its header disagree: line and what is wrong.
    mismatch: Option<(u64, String)>,
    /// The last line read.
    last_line: u64,
}

impl<'a> Parser<'a> {
    fn new(name: &'a str, limits: &Limits) -> Self {
        Parser {
            name,
            files: Vec::new(),
            current: None,
            header_phase: false,
            saw_minus_header: false,
            hunk: None,
            diagnostics: Vec::new(),
            max_diagnostics: limits.max_diagnostics,
            mismatch: None,
            last_line: 0,
        }
    }

    /// A hunk and its header disagree: noted, and remembered so the diff cannot pass.
    fn disagree(&mut self, line: u64, problem: String) {
        self.note(line, problem.clone());
        self.mismatch.get_or_insert((line, problem));
    }

    fn note(&mut self, line: u64, message: String) {
        if self.diagnostics.len() < self.max_diagnostics {
            self.diagnostics
                .push(Diagnostic::at_line(self.name, line, message));
        }
    }

    fn line(&mut self, number: u64, line: &[u8]) {
        self.last_line = number;
        if self.hunk.is_some() && self.hunk_line(number, line) {
            return;
        }
        if let Some(rest) = line.strip_prefix(b"diff --git ") {
            self.start_file(git_header_path(rest), true);
        } else if line.starts_with(b"@@") {
            self.hunk_header(number, line);
        } else if let Some(rest) = line.strip_prefix(b"--- ") {
            let starts_new = match &self.current {
                None => true,
                Some(_) => !self.header_phase || self.saw_minus_header,
            };
            if starts_new {
                self.start_file(String::new(), false);
                self.saw_minus_header = true;
            }
            if let (Some(old), Some(file)) = (header_path(rest, "a/"), self.current.as_mut()) {
                if file.path.is_empty() {
                    file.path = old;
                }
            } else if let Some(file) = self.current.as_mut() {
                file.status = FileStatus::Added;
            }
        } else if let Some(rest) = line.strip_prefix(b"+++ ") {
            match (header_path(rest, "b/"), self.current.as_mut()) {
                (Some(new), Some(file)) => file.path = new,
                (None, Some(file)) => file.status = FileStatus::Deleted,
                (_, None) => self.note(number, "`+++` header without a file".into()),
            }
        } else if let Some(file) = self.current.as_mut().filter(|_| self.header_phase) {
            extended_header(file, line);
        } else if line.starts_with(b"\\") || line.is_empty() {
            // "\ No newline at end of file" after a hunk's last line, or a blank separator.
        } else if self.current.is_some() && is_hunk_body(line) {
            self.disagree(number, "hunk is longer than its header says".into());
        } else {
            self.note(number, "line outside any hunk ignored".into());
        }
    }

    /// Returns false when the line ends the hunk and must be read as a header.
    fn hunk_line(&mut self, number: u64, line: &[u8]) -> bool {
        let (Some(hunk), Some(file)) = (self.hunk.as_mut(), self.current.as_mut()) else {
            return false;
        };
        match line.first() {
            Some(b'+') if hunk.new_left > 0 => {
                file.added_lines.push(hunk.next_new);
                file.added_text.push(line_text(line));
                file.added += 1;
                hunk.next_new += 1;
                hunk.new_left -= 1;
            }
            Some(b'-') if hunk.old_left > 0 => {
                file.removed_text.push(line_text(line));
                file.removed += 1;
                hunk.old_left -= 1;
            }
            Some(b' ') | None if hunk.old_left > 0 && hunk.new_left > 0 => {
                hunk.next_new += 1;
                hunk.old_left -= 1;
                hunk.new_left -= 1;
            }
            Some(b'\\') => return true,
            _ => {
                let problem = format!("hunk is shorter than its header says ({})", hunk.missing());
                self.hunk = None;
                self.disagree(number, problem);
                return false;
            }
        }
        if hunk.old_left == 0 && hunk.new_left == 0 {
            self.hunk = None;
        }
        true
    }

    fn hunk_header(&mut self, number: u64, line: &[u8]) {
        let Some(file) = self.current.as_mut() else {
            self.disagree(number, "hunk without a file header".into());
            return;
        };
        match parse_hunk_header(line) {
            Some((old_len, new_start, new_len)) => {
                self.header_phase = false;
                self.saw_minus_header = false;
                if file.path.is_empty() {
                    file.path = "unknown".into();
                }
                if old_len > 0 || new_len > 0 {
                    self.hunk = Some(Hunk {
                        old_left: old_len,
                        new_left: new_len,
                        next_new: new_start,
                    });
                }
            }
            None => self.disagree(number, "hunk header cannot be read".into()),
        }
    }

    fn start_file(&mut self, path: String, git: bool) {
        self.flush();
        self.current = Some(FileDiff::new(path, FileStatus::Modified));
        self.header_phase = true;
        self.saw_minus_header = !git;
    }

    fn flush(&mut self) {
        self.hunk = None;
        if let Some(mut file) = self.current.take() {
            if file.status == FileStatus::Deleted && file.path.is_empty() {
                file.path = "unknown".into();
            }
            file.added_lines.sort_unstable();
            file.added_lines.dedup();
            self.files.push(file);
        }
    }

    /// The diff read, and the first disagreement between a hunk and its header.
    fn finish(mut self) -> (Diff, Option<(u64, String)>) {
        if let Some(hunk) = &self.hunk {
            let problem = format!("the diff ends inside a hunk ({})", hunk.missing());
            self.disagree(self.last_line, problem);
        }
        self.flush();
        let diff = Diff {
            files: self.files,
            diagnostics: self.diagnostics,
            incomplete: None,
        };
        (diff, self.mismatch)
    }
}

fn extended_header(file: &mut FileDiff, line: &[u8]) {
    let text = |rest: &[u8]| unquote(rest);
    if line.starts_with(b"new file mode") {
        file.status = FileStatus::Added;
    } else if line.starts_with(b"deleted file mode") {
        file.status = FileStatus::Deleted;
    } else if let Some(rest) = line.strip_prefix(b"rename from ") {
        file.status = FileStatus::Renamed;
        file.old_path = Some(text(rest));
    } else if let Some(rest) = line.strip_prefix(b"rename to ") {
        file.status = FileStatus::Renamed;
        file.path = text(rest);
    } else if let Some(rest) = line.strip_prefix(b"copy from ") {
        file.status = FileStatus::Copied;
        file.old_path = Some(text(rest));
    } else if let Some(rest) = line.strip_prefix(b"copy to ") {
        file.status = FileStatus::Copied;
        file.path = text(rest);
    } else if line.starts_with(b"Binary files ") || line.starts_with(b"GIT binary patch") {
        file.binary = true;
    }
}

/// `@@ -a[,b] +c[,d] @@` → (b, c, d).
fn parse_hunk_header(line: &[u8]) -> Option<(u32, u32, u32)> {
    let text = std::str::from_utf8(line).ok()?;
    let inner = text.strip_prefix("@@ -")?;
    let (ranges, _) = inner.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    new_start.checked_add(new_len)?;
    Some((old_len, new_start, new_len))
}

/// The new-side path of a `diff --git a/X b/Y` line.
fn git_header_path(rest: &[u8]) -> String {
    if rest.first() == Some(&b'"') {
        // Quoted paths: take the last quoted token.
        if let Some(start) = rest[1..].iter().rposition(|&b| b == b'"').and_then(|end| {
            rest[..=end]
                .iter()
                .rposition(|&b| b == b'"')
                .filter(|&s| s > 0)
        }) {
            let new = unquote(&rest[start..]);
            return new.strip_prefix("b/").map(str::to_owned).unwrap_or(new);
        }
    }
    let text = String::from_utf8_lossy(rest);
    // Same path on both sides: "a/P b/P".
    let len = text.len();
    if len > 5 && (len - 1).is_multiple_of(2) {
        let half = (len - 1) / 2;
        if text.is_char_boundary(half) && text.is_char_boundary(half + 1) {
            let (a, b) = (&text[..half], &text[half + 1..]);
            if let (Some(a), Some(b)) = (a.strip_prefix("a/"), b.strip_prefix("b/"))
                && a == b
            {
                return b.to_owned();
            }
        }
    }
    match text.rfind(" b/") {
        Some(i) => text[i + 3..].to_owned(),
        None => text.rsplit(' ').next().unwrap_or_default().to_owned(),
    }
}

/// The path of a `---`/`+++` line, `None` for `/dev/null`. Strips `prefix` and any timestamp.
fn header_path(rest: &[u8], prefix: &str) -> Option<String> {
    let raw = match rest.iter().position(|&b| b == b'\t') {
        Some(tab) if rest.first() != Some(&b'"') => &rest[..tab],
        _ => rest,
    };
    let path = unquote(raw);
    if path == "/dev/null" {
        return None;
    }
    Some(path.strip_prefix(prefix).map(str::to_owned).unwrap_or(path))
}

/// Undoes git's C-style quoting (`"t\303\251st"`), leaving unquoted text as it is.
fn unquote(raw: &[u8]) -> String {
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return String::from_utf8_lossy(raw).into_owned();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b != b'\\' || i + 1 == inner.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = inner[i + 1];
        let octal = inner
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let Some(digits) = octal {
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(u8::try_from(value).unwrap_or(b'?'));
            i += 4;
            continue;
        }
        out.push(match next {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            other => other,
        });
        i += 2;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
