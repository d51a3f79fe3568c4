//! Keel's shell: everything that touches the disk, git, the network, the clock or the
//! environment, around the pure `keel-core`. See `ARCHITECTURE.md` for the map.
//!
//! Rooms, top to bottom; imports only point down (`tests/it/architecture.rs` enforces it):
//! [`cli`] (one module per subcommand) → [`server`] (intake, and the App's run loop), [`web`]
//! (pages for people: the App's registration) →
//! [`jobs`] (what a worker does with a job) → [`reports`], [`github`], [`store`] (side by
//! side, independent) → [`metrics`], [`clock`].

pub mod cli;
pub mod clock;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod github;
pub mod jobs;
pub mod metrics;
pub mod reports;
pub mod server;
pub mod store;
pub mod web;
