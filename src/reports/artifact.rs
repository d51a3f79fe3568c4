//! A workflow run's reports artifact: a zip archive, streamed to an unnamed temporary file and
//! read from there under limits (never extracted).
//!
//! Defences: the archive's size is capped before it is downloaded and while it is; the entry
//! count is capped; an entry whose name is absolute or climbs out with `..` refuses the whole
//! archive (a tool that writes such names is not one to trust); every entry is decompressed
//! through a counter, so a declared size cannot lie its way past the per-report limits or the
//! total budget (a zip bomb stops at the budget, not at the end of the bomb). Entries are
//! streamed straight into the parsers, so memory stays at the archive plus the parsed reports.

use super::{ReportKind, Reports};
use keel_core::Config;
use keel_core::Limits;
use keel_core::glob::PathGlobs;
use keel_core::report::bench::criterion_id;
use std::io::{Read, Seek, SeekFrom};

/// Caps on what an artifact may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArtifactLimits {
    /// Largest archive downloaded, in bytes.
    pub archive_bytes: u64,
    /// Most entries in the archive.
    pub entries: usize,
    /// Most bytes decompressed from all entries together.
    pub total_bytes: u64,
}

impl ArtifactLimits {
    /// The defaults: a large monorepo's reports fit; a bomb does not.
    pub const DEFAULT: ArtifactLimits = ArtifactLimits {
        archive_bytes: 256 << 20,
        entries: 10_000,
        total_bytes: 2 << 30,
    };
}

/// Why an artifact could not be read. Shown in the check run as it is.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The archive is over [`ArtifactLimits::archive_bytes`].
    #[error("the artifact is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Its size (or the size read before stopping).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not a zip archive, or a damaged one.
    #[error("the artifact is not a readable zip archive: {0}")]
    NotZip(String),
    /// Too many entries.
    #[error("the artifact has {count} entries, over the limit of {limit}")]
    TooManyEntries {
        /// Entries in the archive.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An entry's name is absolute or climbs out of the archive.
    #[error("the artifact's entry `{0}` has an unsafe path (absolute or with `..`); refused")]
    UnsafePath(String),
    /// The entries decompress to more than [`ArtifactLimits::total_bytes`].
    #[error("the artifact decompresses to more than {limit} bytes (a zip bomb?); refused")]
    Bomb {
        /// The limit.
        limit: u64,
    },
    /// A report inside could not be read.
    #[error("{0:#}")]
    Report(anyhow::Error),
}

/// Where the reports are in an artifact when the config names no paths.
pub const DEFAULT_COVERAGE: &[&str] = &[
    "**/lcov.info",
    "**/*.lcov",
    "**/coverage.xml",
    "**/cobertura*.xml",
];
/// Default SARIF paths.
pub const DEFAULT_SARIF: &[&str] = &["**/*.sarif", "**/*.sarif.json"];
/// Default benchmark paths.
pub const DEFAULT_BENCH: &[&str] = &[
    "**/new/estimates.json",
    "**/bench.json",
    "**/*.bench.json",
    "**/hyperfine*.json",
];

/// Reads the reports the config asks for from a zip archive (a file, or bytes in a cursor).
/// A kind of report it does not hold is noted in [`Reports::unmatched`], for
/// [`Reports::settle`] once every source is read.
pub fn read_reports<R: Read + Seek>(
    archive: R,
    config: &Config,
    limits: &Limits,
    artifact_limits: &ArtifactLimits,
) -> Result<Reports, ArtifactError> {
    let (mut zip, names) = open_archive(archive, artifact_limits)?;
    let globs = |configured: Option<&Vec<String>>, defaults: &[&str]| {
        let patterns = match configured {
            Some(p) if !p.is_empty() => p.clone(),
            _ => defaults.iter().map(|s| (*s).to_owned()).collect(),
        };
        Wanted::new(&patterns, &names)
    };
    let coverage = config.coverage.as_ref();
    let coverage_globs = globs(coverage.map(|c| &c.paths), DEFAULT_COVERAGE)?;
    let sarif_globs = globs(config.security.as_ref().map(|c| &c.paths), DEFAULT_SARIF)?;
    let bench_globs = globs(config.performance.as_ref().map(|c| &c.paths), DEFAULT_BENCH)?;
    let mut budget = Budget {
        left: artifact_limits.total_bytes,
        limit: artifact_limits.total_bytes,
        exceeded: false,
    };
    let mut reports = Reports::default();
    let mut sorted = names.clone();
    sorted.sort();
    for name in &sorted {
        if name.ends_with('/') {
            continue;
        }
        let wanted = (
            coverage.is_some() && coverage_globs.is_match(name),
            config.security.is_some() && sarif_globs.is_match(name),
            config.performance.is_some() && bench_globs.is_match(name),
        );
        let result = match wanted {
            (true, _, _) => {
                let entry = open(&mut zip, name, &mut budget)?;
                reports.add_coverage(name, entry, coverage.and_then(|c| c.format), limits)
            }
            (false, true, _) => {
                let entry = open(&mut zip, name, &mut budget)?;
                reports.add_sarif(name, entry, limits)
            }
            (false, false, true) => {
                let sibling = match name.strip_suffix("new/estimates.json") {
                    Some(dir) => {
                        read_small(&mut zip, &format!("{dir}new/benchmark.json"), &mut budget)
                    }
                    None => None,
                };
                let id = criterion_id(name, sibling.as_deref());
                let entry = open(&mut zip, name, &mut budget)?;
                reports.add_bench(name, &id, entry, limits)
            }
            (false, false, false) => continue,
        };
        if budget.exceeded {
            return Err(ArtifactError::Bomb {
                limit: budget.limit,
            });
        }
        result.map_err(ArtifactError::Report)?;
    }
    // A missing report is said only for a kind some criterion that is on judges.
    let judged = keel_core::policy::scope::ReportsJudged::of(config);
    let sections = [
        (
            ReportKind::Coverage,
            "coverage report",
            judged.coverage,
            &coverage_globs,
        ),
        (ReportKind::Sarif, "SARIF log", judged.sarif, &sarif_globs),
        (
            ReportKind::Bench,
            "benchmark result",
            judged.benchmarks,
            &bench_globs,
        ),
    ];
    for (kind, what, configured, wanted) in sections {
        if configured && !names.iter().any(|n| wanted.is_match(n)) {
            reports
                .unmatched
                .push((kind, nothing_matched(what, wanted, &sorted)));
        }
    }
    Ok(reports)
}

/// Checks that `archive` is a zip archive Keel would read: within the size and entry limits,
/// every entry name safe. (What it holds is judged later, under the config of the base.)
pub fn check_archive<R: Read + Seek>(
    archive: R,
    artifact_limits: &ArtifactLimits,
) -> Result<(), ArtifactError> {
    open_archive(archive, artifact_limits).map(|_| ())
}

/// Opens a zip archive under the limits: its size and its entry count (read from the
/// end-of-central-directory record before the directory itself is parsed) checked, and every
/// entry name safe. Returns the archive and its entry names.
fn open_archive<R: Read + Seek>(
    mut archive: R,
    artifact_limits: &ArtifactLimits,
) -> Result<(zip::ZipArchive<R>, Vec<String>), ArtifactError> {
    let size = archive
        .seek(SeekFrom::End(0))
        .map_err(|e| ArtifactError::NotZip(e.to_string()))?;
    if size > artifact_limits.archive_bytes {
        return Err(ArtifactError::TooLarge {
            size,
            limit: artifact_limits.archive_bytes,
        });
    }
    let declared = eocd::entries(&mut archive, size).map_err(ArtifactError::NotZip)?;
    if declared > artifact_limits.entries as u64 {
        return Err(ArtifactError::TooManyEntries {
            count: usize::try_from(declared).unwrap_or(usize::MAX),
            limit: artifact_limits.entries,
        });
    }
    archive
        .seek(SeekFrom::Start(0))
        .map_err(|e| ArtifactError::NotZip(e.to_string()))?;
    let zip = zip::ZipArchive::new(archive).map_err(|e| ArtifactError::NotZip(e.to_string()))?;
    if zip.len() > artifact_limits.entries {
        return Err(ArtifactError::TooManyEntries {
            count: zip.len(),
            limit: artifact_limits.entries,
        });
    }
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| ArtifactError::NotZip(e.to_string()))?;
    for name in &names {
        if !is_safe(name) {
            return Err(ArtifactError::UnsafePath(name.clone()));
        }
    }
    Ok((zip, names))
}

/// A section's report globs, matched in the artifact as `keel check` matches them on disk.
/// `actions/upload-artifact` stores paths relative to the uploaded files' common directory, so
/// `coverage/lcov.info` arrives as `lcov.info`: when no entry matches a pattern as written,
/// the pattern without its leading literal directories is tried.
struct Wanted {
    patterns: Vec<String>,
    exact: PathGlobs,
    /// The patterns without leading literal directories; `None` when some entry matches as
    /// written (then only exact matches count).
    stripped: Option<PathGlobs>,
}

impl Wanted {
    fn new(patterns: &[String], names: &[String]) -> Result<Wanted, ArtifactError> {
        let patterns: Vec<String> = patterns
            .iter()
            .map(|p| p.trim_start_matches("./").to_owned())
            .collect();
        let build = |p: Vec<String>| {
            PathGlobs::new(p).map_err(|e| ArtifactError::Report(anyhow::anyhow!(e)))
        };
        let exact = build(patterns.clone())?;
        let stripped = if names.iter().any(|n| exact.is_match(n)) {
            None
        } else {
            let tails: Vec<String> = patterns.iter().flat_map(|p| literal_tails(p)).collect();
            (!tails.is_empty()).then(|| build(tails)).transpose()?
        };
        Ok(Wanted {
            patterns,
            exact,
            stripped,
        })
    }

    fn is_match(&self, name: &str) -> bool {
        self.exact.is_match(name) || self.stripped.as_ref().is_some_and(|s| s.is_match(name))
    }
}

/// `a/b/*.info` → `b/*.info`, `*.info`: the pattern with one, two, … leading directories
/// dropped, as long as the dropped ones hold no glob character. A `!` exclusion keeps its `!`.
fn literal_tails(pattern: &str) -> Vec<String> {
    let (bang, body) = match pattern.strip_prefix('!') {
        Some(rest) => ("!", rest),
        None => ("", pattern),
    };
    let segments: Vec<&str> = body.split('/').collect();
    let mut tails = Vec::new();
    for i in 1..segments.len() {
        if segments[i - 1].contains(['*', '?', '[', '{']) {
            break;
        }
        tails.push(format!("{bang}{}", segments[i..].join("/")));
    }
    tails
}

/// "no coverage report in the artifact matched `coverage/lcov.info`; it holds `lcov.xml`, …"
fn nothing_matched(what: &str, wanted: &Wanted, names: &[String]) -> String {
    const SHOWN: usize = 10;
    let quote = |s: &String| format!("`{s}`");
    let patterns: Vec<String> = wanted.patterns.iter().map(quote).collect();
    let files: Vec<&String> = names.iter().filter(|n| !n.ends_with('/')).collect();
    let mut held: Vec<String> = files.iter().take(SHOWN).map(|n| quote(n)).collect();
    if files.len() > SHOWN {
        held.push(format!("and {} more", files.len() - SHOWN));
    }
    let holds = if held.is_empty() {
        "it holds no files".to_owned()
    } else {
        format!("it holds {}", held.join(", "))
    };
    format!(
        "no {what} in the artifact matched {}; {holds}",
        patterns.join(", ")
    )
}

/// Whether an entry name stays inside the archive: relative, no `..`, no drive or NUL.
fn is_safe(name: &str) -> bool {
    let name = name.replace('\\', "/");
    !name.starts_with('/')
        && !name.contains('\0')
        && !name.split('/').any(|part| part == "..")
        && name.chars().nth(1) != Some(':')
}

/// What is left of the decompression budget.
struct Budget {
    left: u64,
    limit: u64,
    exceeded: bool,
}

/// An entry's decompressed bytes, counted against the budget.
struct Counted<'a, R> {
    inner: R,
    budget: &'a mut Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        if n64 > self.budget.left {
            self.budget.exceeded = true;
            self.budget.left = 0;
            return Err(std::io::Error::other(
                "the artifact's decompression budget is spent",
            ));
        }
        self.budget.left -= n64;
        Ok(n)
    }
}

fn open<'a, R: Read + std::io::Seek>(
    zip: &'a mut zip::ZipArchive<R>,
    name: &str,
    budget: &'a mut Budget,
) -> Result<Counted<'a, zip::read::ZipFile<'a, R>>, ArtifactError> {
    let entry = zip
        .by_name(name)
        .map_err(|e| ArtifactError::NotZip(format!("{name}: {e}")))?;
    Ok(Counted {
        inner: entry,
        budget,
    })
}

/// A small entry (≤ 1 MiB) if it exists and reads cleanly.
fn read_small<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    budget: &mut Budget,
) -> Option<Vec<u8>> {
    let entry = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    Counted {
        inner: entry,
        budget,
    }
    .take(1 << 20)
    .read_to_end(&mut bytes)
    .ok()?;
    Some(bytes)
}

mod eocd;

#[cfg(test)]
mod tests;
