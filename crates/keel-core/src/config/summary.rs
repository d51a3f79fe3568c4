//! `[summary]`: when and how the weekly summary issue is written.

use crate::week::Zone;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::str::FromStr;

/// `[summary]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryConfig {
    /// Whether Keel writes the weekly summary for this repository (`false`: only the gate).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When to write it: a 5-field cron expression in `timezone` (default Mondays 09:00).
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// The team's timezone: an IANA name (`Europe/Berlin`), `UTC` or an offset like `+01:00`;
    /// weeks start on its Mondays.
    #[serde(default)]
    pub timezone: Timezone,
    /// Deployment environments that count as production.
    #[serde(default = "default_environments")]
    pub environments: Vec<String>,
    /// Issues with this label are incidents.
    #[serde(default = "default_incident_label")]
    pub incident_label: String,
    /// What counts as a deployment when a repository has none: `merges` or `releases`.
    #[serde(default)]
    pub fallback: Fallback,
    /// Close last week's summary issue when the new one opens.
    #[serde(default = "yes")]
    pub close_previous: bool,
    /// A file on the default branch with measured outcomes of roadmap items, as
    /// `R-12 = 9.5` lines (`keel outcome` records them in the store instead).
    pub outcomes_file: Option<String>,
    /// The team that owns this repository, as the organisation roll-up names it (default: the
    /// first owner of `*` in CODEOWNERS).
    pub team: Option<String>,
    /// A private repository's line appears in the organisation roll-up only with this set, and
    /// only when the organisation's `.github` repository is private too.
    #[serde(default)]
    pub rollup_when_private: bool,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        SummaryConfig {
            enabled: true,
            schedule: default_schedule(),
            timezone: Timezone::default(),
            environments: default_environments(),
            incident_label: default_incident_label(),
            fallback: Fallback::default(),
            close_previous: true,
            outcomes_file: None,
            team: None,
            rollup_when_private: false,
        }
    }
}

fn default_schedule() -> Schedule {
    Schedule("0 9 * * MON".into())
}
fn default_environments() -> Vec<String> {
    vec!["production".into()]
}
fn default_incident_label() -> String {
    "incident".into()
}
fn yes() -> bool {
    true
}

/// The deployment source without deployments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// Merges to the default branch.
    #[default]
    Merges,
    /// Published releases.
    Releases,
}

/// A validated 5-field cron expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Schedule(pub String);

impl Schedule {
    /// The first time after `now_ms` the schedule fires, in `zone`.
    pub fn next_due(&self, now_ms: i64, zone: Zone) -> Option<i64> {
        let cron = croner::Cron::from_str(&self.0).ok()?;
        let utc = chrono::DateTime::from_timestamp_millis(now_ms)?;
        match zone {
            Zone::Fixed(minutes) => {
                let tz = chrono::FixedOffset::east_opt(minutes * 60)?;
                cron.find_next_occurrence(&utc.with_timezone(&tz), false)
                    .ok()
                    .map(|t| t.timestamp_millis())
            }
            Zone::Named(tz) => cron
                .find_next_occurrence(&utc.with_timezone(&tz), false)
                .ok()
                .map(|t| t.timestamp_millis()),
        }
    }

    /// The latest time at or before `now_ms` the schedule fired, in `zone`.
    pub fn last_due(&self, now_ms: i64, zone: Zone) -> Option<i64> {
        let cron = croner::Cron::from_str(&self.0).ok()?;
        let utc = chrono::DateTime::from_timestamp_millis(now_ms)?;
        match zone {
            Zone::Fixed(minutes) => {
                let tz = chrono::FixedOffset::east_opt(minutes * 60)?;
                cron.find_previous_occurrence(&utc.with_timezone(&tz), true)
                    .ok()
                    .map(|t| t.timestamp_millis())
            }
            Zone::Named(tz) => cron
                .find_previous_occurrence(&utc.with_timezone(&tz), true)
                .ok()
                .map(|t| t.timestamp_millis()),
        }
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.split_whitespace().count() != 5 {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not a 5-field cron expression (minute hour day month weekday), like \"0 9 * * MON\""
            )));
        }
        croner::Cron::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not a valid cron expression: {e}"))
        })?;
        Ok(Schedule(text))
    }
}

/// A timezone: an IANA name (`Europe/Berlin`) or a fixed offset (`UTC`, `+01:00`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Timezone(pub Zone);

impl From<Timezone> for String {
    fn from(t: Timezone) -> String {
        t.0.to_string()
    }
}

impl<'de> Deserialize<'de> for Timezone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Zone::parse(&text)
            .map(Timezone)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timezone {
    fn schema_name() -> Cow<'static, str> {
        "Timezone".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "description": "An IANA timezone (Europe/Berlin), UTC, or an offset like +02:00"})
    }
}
