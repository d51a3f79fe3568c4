//! Keel's pure core: it turns facts about a change (a diff, coverage reports, SARIF logs,
//! benchmark results, pull request metadata, the base commit's metrics) and a repository's
//! declared policy (`.github/keel.toml`) into one [`Evaluation`]: a definition-of-done verdict
//! with a row per criterion, annotations on the exact lines, and the metrics to keep as the
//! next baseline. Renderers turn that value into markdown, text and JSON.
//!
//! This crate does no I/O and cannot be made to: no file system, network, clock or
//! environment. Parsers read from an [`std::io::Read`] handed to them. See `ARCHITECTURE.md`.

pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod evaluation;
pub mod facts;
pub mod glob;
pub mod limits;
pub mod org;
pub mod policy;
mod quote;
pub mod render;
pub mod report;
pub mod strategy;
pub mod summary;
pub mod units;
pub mod week;

pub use config::Config;
pub use evaluation::Evaluation;
pub use facts::Facts;
pub use limits::Limits;
pub use policy::evaluate;
