//! One repository's line in the organisation roll-up: the four keys with their bands, debt
//! capacity against its target, the definition-of-done pass rate and what needs attention,
//! taken from the repository's weekly report (`render::summary::rollup::row`). Stored as JSON by the shell, so the roll-up
//! issue can be written from every repository's latest line.

use super::dora::{Band, bands};
use serde::{Deserialize, Serialize};

/// A repository's line in the roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollupRow {
    /// `owner/name`.
    pub repo: String,
    /// The owning team (`[summary] team`, else CODEOWNERS).
    pub team: Option<String>,
    /// The repository's own summary issue for the week.
    pub issue: Option<u64>,
    /// The repository is private (or Keel could not tell): a roll-up in a public `.github`
    /// repository leaves it out, name and figures.
    #[serde(default = "private_unless_known")]
    pub private: bool,
    /// `[summary] rollup_when_private`: a private repository's line may appear in a private
    /// `.github`'s roll-up.
    #[serde(default)]
    pub shared_when_private: bool,
    /// Whether Keel had recorded anything by the week's end.
    pub observed: bool,
    /// Deployments a week, averaged over up to four weeks with data.
    pub deployments_per_week: f64,
    /// Median lead time, hours.
    pub lead_time_hours: Option<f64>,
    /// Change failure rate, 0 to 1.
    pub change_failure_rate: Option<f64>,
    /// Median time to restore, hours.
    pub time_to_restore_hours: Option<f64>,
    /// Merged pull requests in the week.
    pub merged: usize,
    /// Share of merged pull requests that reduced debt (`None` without `[debt]` or merges).
    pub debt_share: Option<f64>,
    /// `[debt] capacity_target`.
    pub debt_target: Option<f64>,
    /// Share of judged merged pull requests that met their definition of done.
    pub dod_pass_rate: Option<f64>,
    /// The register's monthly cost, and its currency.
    pub register_cost: Option<f64>,
    /// The currency of the cost.
    pub currency: Option<String>,
    /// What needs attention, most serious first (sentences, markdown-escaped; at most ten).
    pub attention: Vec<String>,
    /// How many things need attention in all.
    #[serde(default)]
    pub attention_count: usize,
}

fn private_unless_known() -> bool {
    true
}

impl RollupRow {
    /// The four bands: deployment frequency, lead time, change failure rate, time to restore.
    pub fn bands(&self) -> [Option<Band>; 4] {
        [
            self.observed
                .then(|| bands::deployment_frequency(self.deployments_per_week)),
            self.lead_time_hours.map(bands::lead_time),
            self.change_failure_rate.map(bands::change_failure_rate),
            self.time_to_restore_hours.map(bands::time_to_restore),
        ]
    }
}

/// The team that owns a repository by its CODEOWNERS: the first owner of the last `*` rule
/// (the one GitHub applies to every file), without its `@`: `@acme/payments` → `acme/payments`.
pub fn codeowners_team(text: &str) -> Option<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| l.split_whitespace().next() == Some("*"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .next_back()
        .map(|owner| owner.trim_start_matches('@').to_owned())
}

#[cfg(test)]
mod tests {
    use super::codeowners_team;

    #[test]
    fn the_team_is_the_first_owner_of_the_last_star_rule() {
        let text = "# owners\n* @acme/web @lead\n/docs/ @acme/docs\n* @acme/payments # since Q3\n";
        assert_eq!(codeowners_team(text).as_deref(), Some("acme/payments"));
        assert_eq!(codeowners_team("/src/ @acme/core\n"), None);
        assert_eq!(codeowners_team("*\n"), None);
    }
}
