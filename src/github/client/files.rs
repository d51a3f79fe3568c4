//! Files: one at a commit (the contents API, base64), and a change's files with their
//! patches from a pull request or a comparison, bounded by GitHub's caps; a file GitHub lists
//! without a patch is named, never silently skipped.

use super::*;

pub(super) async fn at(
    gh: &GitHub,
    repo: &Repo,
    path: &str,
    sha: &CommitSha,
) -> Result<Option<Vec<u8>>, ApiError> {
    #[derive(Deserialize)]
    struct Content {
        content: Option<String>,
        encoding: Option<String>,
    }
    let route = format!("/repos/{}/contents/{}", repo.name, encode_path(path));
    // An empty commit reads the default branch.
    let query: &[(&str, &str)] = if sha.0.is_empty() {
        &[]
    } else {
        &[("ref", &sha.0)]
    };
    let got: Result<Content, _> = gh.json(repo, Method::Get, &route, query, None).await;
    match got {
        Ok(c) if c.encoding.as_deref() == Some("base64") => {
            let text: String = c.content.unwrap_or_default().split_whitespace().collect();
            decode_base64(&text)
                .map(Some)
                .ok_or_else(|| ApiError::Rejected {
                    status: 200,
                    message: format!("{path}: bad base64 content"),
                })
        }
        Ok(_) => Err(ApiError::Rejected {
            status: 200,
            message: format!("{path}: not a file"),
        }),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn of_pull_request(
    gh: &GitHub,
    repo: &Repo,
    number: &PrNumber,
    expected: Option<u64>,
) -> Result<Diff, ApiError> {
    let route = format!("/repos/{}/pulls/{number}/files", repo.name);
    let mut files = Vec::new();
    let mut damaged = None;
    for page in 1..=u32::try_from(MAX_PR_FILES / PER_PAGE).unwrap_or(30) {
        let entries: Vec<FileEntry> = gh.page(repo, &route, page).await?;
        let last = entries.len() < PER_PAGE;
        read_entries(entries, &mut files, &mut damaged);
        if last {
            break;
        }
    }
    let listed = files.len() as u64;
    let incomplete = damaged.or(match expected {
        Some(total) if listed < total => Some(format!(
            "GitHub listed {listed} of the {total} files this pull request changes"
        )),
        None if files.len() >= MAX_PR_FILES => Some(format!(
            "GitHub lists at most {MAX_PR_FILES} files of a pull request, and this one has at least that many"
        )),
        _ => None,
    });
    Ok(Diff {
        files,
        incomplete,
        ..Diff::default()
    })
}

pub(super) async fn compared(
    gh: &GitHub,
    repo: &Repo,
    base: &CommitSha,
    head: &CommitSha,
) -> Result<Diff, ApiError> {
    #[derive(Deserialize)]
    struct Comparison {
        files: Option<Vec<FileEntry>>,
    }
    // GitHub lists a comparison's files on its first page only, at most 300 of them.
    let route = format!("/repos/{}/compare/{base}...{head}", repo.name);
    let comparison: Comparison = gh.json(repo, Method::Get, &route, &[], None).await?;
    let Some(listed) = comparison.files else {
        return Ok(Diff {
            incomplete: Some("GitHub's comparison of the merge group listed no files".into()),
            ..Diff::default()
        });
    };
    let capped = (listed.len() >= MAX_COMPARE_FILES).then(|| {
        format!(
            "GitHub compares at most {MAX_COMPARE_FILES} files between two commits, and this merge group changes at least that many"
        )
    });
    let mut files = Vec::new();
    let mut damaged = None;
    read_entries(listed, &mut files, &mut damaged);
    let incomplete = damaged.or(capped);
    Ok(Diff {
        files,
        incomplete,
        ..Diff::default()
    })
}

/// A changed file as the pull request files and compare endpoints list it.
#[derive(Deserialize)]
struct FileEntry {
    filename: String,
    status: String,
    patch: Option<String>,
    previous_filename: Option<String>,
    /// GitHub's own line counts: they stand when the patch is left out (very large files).
    additions: Option<u32>,
    deletions: Option<u32>,
}

impl FileEntry {
    /// The file as Keel judges it, and why the change cannot be seen whole when GitHub's
    /// patch of it is damaged (its hunks disagree with their headers). A patch over the size
    /// limit counts as one GitHub left out: its lines count, its added lines are unknown.
    fn into_diff(self) -> (FileDiff, Option<String>) {
        use keel_core::diff::{DiffError, FileStatus, parse_file_patch};
        let status = match self.status.as_str() {
            "added" => FileStatus::Added,
            "removed" => FileStatus::Deleted,
            "renamed" => FileStatus::Renamed,
            "copied" => FileStatus::Copied,
            _ => FileStatus::Modified,
        };
        let limits = keel_core::Limits::DEFAULT;
        let patch = self.patch.as_deref().map(str::as_bytes);
        let without_patch = || parse_file_patch(&self.filename, status, None, &limits);
        let (file, damaged) = match parse_file_patch(&self.filename, status, patch, &limits) {
            Ok(file) => (Ok(file), None),
            Err(err @ DiffError::HunkMismatch { .. }) => (
                without_patch(),
                Some(format!(
                    "GitHub's patch of `{}` is damaged: {err}",
                    self.filename
                )),
            ),
            Err(_) => (without_patch(), None),
        };
        let mut file = file.unwrap_or_else(|_| FileDiff {
            path: self.filename.clone(),
            old_path: None,
            status,
            binary: false,
            patch_missing: true,
            added_lines: Vec::new(),
            added: 0,
            removed: 0,
            added_text: Vec::new(),
            removed_text: Vec::new(),
        });
        file.old_path = self.previous_filename;
        file.added = self.additions.unwrap_or(file.added).max(file.added);
        file.removed = self.deletions.unwrap_or(file.removed).max(file.removed);
        (file, damaged)
    }
}

/// Files as listed, with the first reason the list cannot be trusted whole.
fn read_entries(entries: Vec<FileEntry>, files: &mut Vec<FileDiff>, damaged: &mut Option<String>) {
    for entry in entries {
        let (file, why) = entry.into_diff();
        files.push(file);
        if damaged.is_none() {
            *damaged = why;
        }
    }
}

/// Standard base64 (as the contents API returns it); `None` for anything malformed.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..=n]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_base64;

    #[test]
    fn base64_decodes_githubs_wrapped_content() {
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("a$==").is_none());
    }
}
