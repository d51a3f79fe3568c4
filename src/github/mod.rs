//! GitHub: identifier newtypes, [`CHECK_NAME`], and webhook payloads → Keel's own
//! [`event::Event`]. [`api`] is what Keel asks of GitHub; [`client`] asks the real one,
//! [`dry_run`] prints what would be asked; [`manifest`] is the App's registration (events and
//! least permissions).

pub mod api;
pub mod client;
pub mod dry_run;
pub mod event;
pub mod manifest;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The check run's name; maintainers require it in branch protection.
pub const CHECK_NAME: &str = "Keel · Definition of done";

macro_rules! newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

newtype!(
    /// `owner/name`.
    RepoName(String)
);
newtype!(
    /// A pull request's number.
    PrNumber(u64)
);
newtype!(
    /// A 40-hex commit id.
    CommitSha(String)
);
newtype!(
    /// `X-GitHub-Delivery`: unchanged when GitHub redelivers.
    DeliveryId(String)
);
newtype!(
    /// A GitHub App installation.
    InstallationId(u64)
);
