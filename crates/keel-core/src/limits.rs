//! Every size and count cap Keel applies to what it reads, in one place.
//!
//! Shells pass these to the parsers; going over one is a clear error
//! ([`crate::report::ReportError::TooLarge`]), never a crash and never a silent truncation.

/// Memory one job (one evaluation) needs at most under [`Limits::DEFAULT`], MiB. A server
/// needs `workers` times this, plus [`SERVER_MEMORY_BASE_MIB`].
pub const JOB_MEMORY_BUDGET_MIB: u64 = 256;
/// Memory a server needs besides its jobs, MiB: unauthenticated bodies in flight (64 MiB),
/// the parsed reports it shares between pull requests (64 MiB), and the process.
pub const SERVER_MEMORY_BASE_MIB: u64 = 192;

/// Size and count limits for everything Keel reads from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest coverage report (LCOV or Cobertura), in bytes.
    pub coverage_bytes: u64,
    /// Largest SARIF log, in bytes.
    pub sarif_bytes: u64,
    /// Largest benchmark result file, in bytes.
    pub bench_bytes: u64,
    /// Largest unified diff, in bytes.
    pub diff_bytes: u64,
    /// Largest `keel.toml`, in bytes.
    pub config_bytes: u64,
    /// Highest source line number a coverage report may name (a sanity bound; at most
    /// 2^31 − 1 whatever this says). Memory does not depend on it.
    pub max_line_number: u32,
    /// Most entries one coverage report, or a merge of several, may hold, summed over files:
    /// one per line listed, one per line with branch data, one per function. A line listed
    /// several times counts once. Memory follows this (about 4 bytes a line, 12 a branch line).
    pub max_coverage_lines: u64,
    /// Most findings kept from one SARIF log.
    pub max_findings: usize,
    /// Most findings kept from all SARIF logs of one evaluation together (see
    /// [`crate::report::sarif::merge_findings`]).
    pub max_findings_total: usize,
    /// Most diagnostics kept per report; the rest are counted.
    pub max_diagnostics: usize,
}

impl Limits {
    /// The defaults: generous for real projects, small enough to keep a server healthy. One
    /// evaluation at these limits stays within [`JOB_MEMORY_BUDGET_MIB`] (the largest coverage
    /// report allowed with the largest SARIF log allowed peak at 191 MB, measured).
    pub const DEFAULT: Limits = Limits {
        coverage_bytes: 1 << 30,
        sarif_bytes: 24 << 20,
        bench_bytes: 16 << 20,
        diff_bytes: 64 << 20,
        config_bytes: 1 << 20,
        max_line_number: 1 << 22,
        max_coverage_lines: 1 << 24,
        max_findings: 200_000,
        max_findings_total: 200_000,
        max_diagnostics: 50,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
