//! Keel's integration tests: one binary, one module per area.

// `keel check`, `keel config`: exit codes, output formats, the JSON contract, git diffs.
mod cli;
// Test helpers: running the binary, temporary repositories.
mod support;
