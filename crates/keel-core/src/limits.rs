//! Every size and count cap Keel applies to what it reads, in one place.
//!
//! Shells pass these to the parsers; going over one is a clear error
//! ([`crate::report::ReportError::TooLarge`]), never a crash and never a silent truncation.

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
    /// Highest source line number a coverage report may name.
    pub max_line_number: u32,
    /// Most line-number cells (summed over files) a coverage report may span.
    pub max_coverage_cells: u64,
    /// Most findings kept from all SARIF logs together.
    pub max_findings: usize,
    /// Most diagnostics kept per report; the rest are counted.
    pub max_diagnostics: usize,
}

impl Limits {
    /// The defaults: generous for real projects, small enough to keep a server healthy.
    pub const DEFAULT: Limits = Limits {
        coverage_bytes: 1 << 30,
        sarif_bytes: 256 << 20,
        bench_bytes: 64 << 20,
        diff_bytes: 64 << 20,
        config_bytes: 1 << 20,
        max_line_number: 1 << 22,
        max_coverage_cells: 1 << 31,
        max_findings: 200_000,
        max_diagnostics: 50,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
