//! Keel's integration tests: one binary, one module per area.

// `keel check`, `keel config`: exit codes, output formats, the JSON contract, git diffs.
mod cli;
// The durable job queue on SQLite and PostgreSQL.
mod queue;
// Test helpers: running the binary, temporary repositories, test databases.
mod support;
