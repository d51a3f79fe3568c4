//! Keel's shell: everything that touches the disk, git, the network, the clock or the
//! environment, around the pure `keel-core`. See `ARCHITECTURE.md` for the map.

pub mod action;
pub mod artifact;
pub mod backfill_cli;
pub mod check;
pub mod cli;
pub mod config_reference;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod github;
pub mod inputs;
pub mod jobs;
pub mod jobs_cli;
pub mod manifest;
pub mod metrics;
pub mod replay;
pub mod reports;
pub mod roadmap_cli;
pub mod serve;
pub mod server;
pub mod settings;
pub mod store;
pub mod summary;
