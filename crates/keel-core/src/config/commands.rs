//! `[commands]`: who may use which `/keel` comment command, and how long a waiver holds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A permission on the repository, as GitHub's collaborator-permission endpoint names it
/// (its `role_name`), weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// No access.
    None,
    /// Read.
    Read,
    /// Triage (labels, issues).
    Triage,
    /// Write (push).
    Write,
    /// Maintain (settings but not admin).
    Maintain,
    /// Admin.
    Admin,
}

impl Permission {
    /// The permission a role name or legacy permission from GitHub means; unknown names mean
    /// no access (a custom role is read from its base role by the caller).
    pub fn from_github(name: &str) -> Permission {
        match name {
            "admin" => Permission::Admin,
            "maintain" => Permission::Maintain,
            "write" | "push" => Permission::Write,
            "triage" => Permission::Triage,
            "read" | "pull" => Permission::Read,
            _ => Permission::None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::None => "none",
            Permission::Read => "read",
            Permission::Triage => "triage",
            Permission::Write => "write",
            Permission::Maintain => "maintain",
            Permission::Admin => "admin",
        }
    }
}

/// `[commands]`. Each verb key raises the permission its command needs on the repository;
/// nothing can lower it below the built-in floor (`read` for `help` and `explain`, `write`
/// for the commands that change something).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandsConfig {
    /// Least permission for `/keel explain`.
    pub explain: Option<Permission>,
    /// Least permission for `/keel recheck`.
    pub recheck: Option<Permission>,
    /// Least permission for `/keel link` and `/keel unlink`.
    pub link: Option<Permission>,
    /// Least permission for `/keel debt`.
    pub debt: Option<Permission>,
    /// Least permission for `/keel waive` and `/keel unwaive` (the pull request's author is
    /// always refused).
    pub waive: Option<Permission>,
    /// Least permission for `/keel outcome`.
    pub outcome: Option<Permission>,
    /// Whether `/keel waive` may be used at all.
    #[serde(default = "yes")]
    pub waivers: bool,
    /// Whether a waiver, link or debt call holds after a new push. By default each is given
    /// for the head commit it was written on, and a push asks for it again.
    #[serde(default)]
    pub survive_pushes: bool,
    /// Days a waiver holds when it names no `until`, and the most it may name.
    #[serde(default = "default_waiver_days")]
    pub waiver_days: u32,
}

impl Default for CommandsConfig {
    fn default() -> Self {
        CommandsConfig {
            explain: None,
            recheck: None,
            link: None,
            debt: None,
            waive: None,
            outcome: None,
            waivers: true,
            survive_pushes: false,
            waiver_days: default_waiver_days(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_waiver_days() -> u32 {
    14
}

impl CommandsConfig {
    /// The permission `verb` (as typed: `waive`, `unlink`, …) needs: the configured one, never
    /// below the built-in floor.
    pub fn needs(&self, verb: &str) -> Permission {
        let (floor, set) = match verb {
            "help" => (Permission::Read, None),
            "explain" => (Permission::Read, self.explain),
            "recheck" => (Permission::Write, self.recheck),
            "link" | "unlink" => (Permission::Write, self.link),
            "debt" => (Permission::Write, self.debt),
            "waive" | "unwaive" => (Permission::Write, self.waive),
            "outcome" => (Permission::Write, self.outcome),
            _ => (Permission::Admin, None),
        };
        set.map_or(floor, |s| s.max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verb_never_needs_less_than_its_floor() {
        let lowered = CommandsConfig {
            recheck: Some(Permission::Read),
            waive: Some(Permission::Maintain),
            explain: Some(Permission::Triage),
            ..CommandsConfig::default()
        };
        let table = [
            ("help", Permission::Read),
            ("explain", Permission::Triage),
            ("recheck", Permission::Write),
            ("link", Permission::Write),
            ("unlink", Permission::Write),
            ("debt", Permission::Write),
            ("waive", Permission::Maintain),
            ("unwaive", Permission::Maintain),
            ("outcome", Permission::Write),
            ("nonsense", Permission::Admin),
        ];
        for (verb, needs) in table {
            assert_eq!(lowered.needs(verb), needs, "{verb}");
        }
        assert_eq!(CommandsConfig::default().needs("explain"), Permission::Read);
    }

    #[test]
    fn githubs_names_map_to_permissions_in_order() {
        let names = ["none", "read", "triage", "write", "maintain", "admin"];
        let perms: Vec<Permission> = names.iter().map(|n| Permission::from_github(n)).collect();
        assert!(perms.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Permission::from_github("push"), Permission::Write);
        assert_eq!(Permission::from_github("custom-role"), Permission::None);
        for (n, p) in names.iter().zip(&perms) {
            assert_eq!(p.as_str(), *n);
        }
    }
}
