//! Events about Keel's reach rather than a change: a repository deleted, renamed or
//! transferred (what Keel stored under its old name must follow it or go), and a person
//! revoking Keel's authorisation (their dashboard sessions end).

use super::parse::{Parsed, ignored};
use super::{Event, InstallationId, RepoName};
use serde::Deserialize;
use serde::de::Error as _;

/// A `repository` delivery: deleted, renamed or transferred; other actions are not used.
pub(super) fn repository(body: &[u8]) -> Result<Parsed, serde_json::Error> {
    let p: RepositoryPayload = serde_json::from_slice(body)?;
    let installation = p.installation.map(|i| InstallationId(i.id));
    let now = RepoName(p.repository.full_name.clone());
    let owner = p.repository.full_name.split('/').next().unwrap_or_default();
    let changes = p.changes.unwrap_or_default();
    let mut only_if_gone = None;
    let (from, to) = match p.action.as_str() {
        "deleted" => (now, None),
        "renamed" => {
            let Some(old) = changes.repository.and_then(|r| r.name).map(|n| n.from) else {
                return Err(serde_json::Error::missing_field(
                    "changes.repository.name.from",
                ));
            };
            (RepoName(format!("{owner}/{old}")), Some(now))
        }
        "transferred" => {
            let from = changes.owner.map(|o| o.from);
            let Some(old_owner) = from
                .and_then(|f| f.user.or(f.organization))
                .map(|u| u.login)
            else {
                return Err(serde_json::Error::missing_field("changes.owner.from"));
            };
            only_if_gone = p.repository.id;
            (RepoName(format!("{old_owner}/{}", p.repository.name)), None)
        }
        action => return Ok(ignored("repository", action)),
    };
    Ok(Parsed::Event(Box::new(Event::RepositoryMoved {
        installation,
        from,
        to,
        only_if_gone,
    })))
}

/// A `github_app_authorization` delivery: only `revoked` is sent.
pub(super) fn authorization(body: &[u8]) -> Result<Parsed, serde_json::Error> {
    let p: AuthorizationPayload = serde_json::from_slice(body)?;
    if p.action != "revoked" {
        return Ok(ignored("github_app_authorization", &p.action));
    }
    Ok(Parsed::Event(Box::new(Event::AuthorizationRevoked {
        user_id: p.sender.id,
    })))
}

#[derive(Deserialize)]
struct InstallationRef {
    id: u64,
}

/// `repository`: deleted, renamed (the old name in `changes`) or transferred (the old owner).
#[derive(Deserialize)]
struct RepositoryPayload {
    action: String,
    repository: NamedRepository,
    #[serde(default)]
    changes: Option<RepositoryChanges>,
    installation: Option<InstallationRef>,
}

#[derive(Deserialize)]
struct NamedRepository {
    full_name: String,
    name: String,
    #[serde(default)]
    id: Option<u64>,
}

#[derive(Deserialize, Default)]
struct RepositoryChanges {
    repository: Option<RenamedFrom>,
    owner: Option<OwnerFrom>,
}

#[derive(Deserialize)]
struct RenamedFrom {
    name: Option<From>,
}

#[derive(Deserialize)]
struct From {
    from: String,
}

#[derive(Deserialize)]
struct OwnerFrom {
    from: OldOwner,
}

#[derive(Deserialize)]
struct OldOwner {
    user: Option<Login>,
    organization: Option<Login>,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

/// `github_app_authorization`: who revoked Keel's authorisation.
#[derive(Deserialize)]
struct AuthorizationPayload {
    action: String,
    sender: RevokingUser,
}

#[derive(Deserialize)]
struct RevokingUser {
    id: u64,
}
