//! The strategy half of the config: roadmap items with their business hypotheses, and the
//! technical debt register with each item's business cost. Either can live in its own file
//! (`file = ".github/roadmap.toml"`), which holds `[[items]]` tables of the same shape.

use super::Criterion;
use crate::glob::PathGlobs;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;

/// An items file's path, written the one way GitHub names the file (relative, no `.` or `..`
/// segments, no doubled `/`), so a change to it is always seen as one; a `.toml` file, never
/// a workflow or an action (a change judged by its own config may edit its items files).
fn items_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let path = String::deserialize(d)?;
    let bad = |why: &str| serde::de::Error::custom(format!("`{path}` cannot hold items: {why}"));
    if !path.ends_with(".toml") {
        return Err(bad("name a `.toml` file, like `.github/roadmap.toml`"));
    }
    if path.contains('\\')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad(
            "write it from the repository's root without `./`, `..` or a leading `/`, like `.github/roadmap.toml`",
        ));
    }
    if path.starts_with(".github/workflows/") || path.starts_with(".github/actions/") {
        return Err(bad("workflows and actions are not items files"));
    }
    if matches!(path.as_str(), ".github/keel.toml" | ".github/keel-org.toml") {
        return Err(bad("it is a definition of done, not an items file"));
    }
    Ok(Some(path))
}

/// `[roadmap]`: what the business is betting on, and whether every change must say which bet
/// it serves.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadmapConfig {
    /// A change must link a roadmap item, or be marked as debt, a fix or a chore (by title
    /// prefix, branch prefix or label).
    pub require_link: Option<Criterion<bool>>,
    /// Another file holding the items as `[[items]]` (read from the base commit too): a
    /// `.toml` file, relative to the repository's root.
    #[serde(default, deserialize_with = "items_path")]
    pub file: Option<String>,
    /// The items.
    #[serde(default)]
    pub items: Vec<RoadmapItem>,
}

/// One roadmap item.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadmapItem {
    /// Its id, as people write it in titles and branches (`R-12`).
    pub id: ItemId,
    /// A short title.
    pub title: String,
    /// "We believe <change> will <move a metric> by <amount>".
    pub hypothesis: Option<Hypothesis>,
    /// The metric it should move.
    pub metric: Option<String>,
    /// The target value or change (`-15%`, `< 2 s`).
    pub target: Option<String>,
    /// Who owns the bet.
    pub owner: Option<String>,
    /// Where it stands.
    #[serde(default)]
    pub status: ItemStatus,
    /// Changed files that link a change to it.
    #[serde(default)]
    pub paths: PathGlobs,
    /// Pull request labels that link a change to it.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Issues that belong to it: a change that fixes or closes one is linked.
    #[serde(default)]
    pub issues: Vec<u64>,
    /// A milestone whose pull requests belong to it.
    pub milestone: Option<String>,
}

/// Where a roadmap item stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    /// Not started.
    Planned,
    /// Being built.
    #[default]
    Active,
    /// Delivered; its outcome is being measured.
    Shipped,
    /// Abandoned.
    Dropped,
}

impl ItemStatus {
    /// The config's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Planned => "planned",
            ItemStatus::Active => "active",
            ItemStatus::Shipped => "shipped",
            ItemStatus::Dropped => "dropped",
        }
    }
}

/// An item id: letters, digits, `-`, `_`, `.`; at least one letter and one digit (so it can be
/// found in text without matching ordinary words).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ItemId(pub String);

impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let allowed = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let has_letter = text.chars().any(|c| c.is_ascii_alphabetic());
        let has_digit = text.chars().any(|c| c.is_ascii_digit());
        if text.is_empty() || text.len() > 40 || !allowed || !has_letter || !has_digit {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not an item id: use letters, digits and `-` with at least one of each, like `R-12` or `DEBT-7`"
            )));
        }
        Ok(ItemId(text))
    }
}

impl std::fmt::Display for ItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A business hypothesis with its three parts named: "We believe <change> will <move a
/// metric> <amount>", the amount as teams write it ("by 15%", "from 2.8% to 3.2%", "to
/// 3.2%", "by half", "unlock 3 deals"). One that does not read so is kept as written with a
/// [`Hypothesis::problem`]: a warning on its item, never an error that fails pull requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Hypothesis {
    /// The whole sentence as written.
    pub text: String,
    /// What we change (empty when it could not be read).
    pub change: String,
    /// Which metric moves, and which way (empty when it could not be read).
    pub effect: String,
    /// By how much, or to what: `15%`, `from 2.8% to 3.2%`, `to 3.2%`, `half`, `3 deals`
    /// (empty when it could not be read).
    pub amount: String,
    /// What keeps the sentence from being a measurable hypothesis; `None` when it is one.
    pub problem: Option<String>,
}

impl From<Hypothesis> for String {
    fn from(h: Hypothesis) -> String {
        h.text
    }
}

/// Amounts in words that are as measurable as a number.
const WORD_AMOUNTS: &[&str] = &[
    "half",
    "a half",
    "a third",
    "a quarter",
    "a tenth",
    "double",
    "twice",
    "two thirds",
    "three quarters",
    "10x",
    "2x",
];

impl Hypothesis {
    /// Reads a hypothesis. It always succeeds: a sentence that does not follow the grammar
    /// keeps its text, and [`Hypothesis::problem`] says which part is missing.
    pub fn parse(text: &str) -> Hypothesis {
        match parts(text) {
            Ok((change, effect, amount)) => Hypothesis {
                text: text.trim().to_owned(),
                change,
                effect,
                amount,
                problem: None,
            },
            Err(problem) => Hypothesis {
                text: text.trim().to_owned(),
                change: String::new(),
                effect: String::new(),
                amount: String::new(),
                problem: Some(problem),
            },
        }
    }
}

/// Change, effect and amount of a hypothesis, or what is missing.
fn parts(text: &str) -> Result<(String, String, String), String> {
    const SHAPE: &str =
        "a hypothesis reads \"We believe <change> will <move a metric> by <amount>\"";
    let measurable = |amount: &str| {
        let a = amount.trim().to_ascii_lowercase();
        a.chars().any(|c| c.is_ascii_digit()) || WORD_AMOUNTS.contains(&a.as_str())
    };
    let trimmed = text.trim().trim_end_matches('.');
    let lower = trimmed.to_ascii_lowercase();
    let Some(after) = lower.strip_prefix("we believe ") else {
        return Err(format!(
            "{SHAPE}; it must start with \"We believe\" and name the change"
        ));
    };
    let offset = trimmed.len() - after.len();
    let Some(will) = after.find(" will ") else {
        return Err(format!(
            "{SHAPE}; the metric it moves is missing (\"… will reduce <metric> …\")"
        ));
    };
    let change = trimmed[offset..offset + will].trim();
    if change.is_empty() {
        return Err(format!("{SHAPE}; the change is missing"));
    }
    let rest_at = offset + will + " will ".len();
    let rest = &trimmed[rest_at..];
    let rest_lower = &lower[rest_at..];
    // "… from 2.8% to 3.2%", "… by 15%", "… to 3.2%", or a count in the effect ("unlock 3
    // deals"), tried in that order.
    let split = |at: usize, skip: usize| (rest[..at].trim(), rest[at + skip..].trim());
    let (effect, amount) = if let Some(from) = rest_lower.rfind(" from ")
        && rest_lower[from..].contains(" to ")
    {
        let (effect, range) = split(from, 1);
        (effect, range)
    } else if let Some(by) = rest_lower.rfind(" by ") {
        split(by, " by ".len())
    } else if let Some(to) = rest_lower.rfind(" to ")
        && measurable(&rest[to + 4..])
    {
        let (effect, target) = split(to, 1);
        (effect, target)
    } else if let Some(number) = rest.find(|c: char| c.is_ascii_digit()) {
        let start = rest[..number].rfind(' ').map_or(0, |i| i + 1);
        (rest.trim(), rest[start..].trim())
    } else {
        return Err(format!(
            "{SHAPE}; the target is missing (\"… by <amount>\", \"… to <value>\" or a count)"
        ));
    };
    if effect.split_whitespace().count() < 2 {
        return Err(format!(
            "{SHAPE}; \"will {effect}\" does not name a metric and which way it moves"
        ));
    }
    let checked = amount
        .strip_prefix("from ")
        .map_or(amount, |range| range.split(" to ").next().unwrap_or(range));
    if !measurable(checked) || !measurable(amount) {
        return Err(format!(
            "{SHAPE}; the target \"{amount}\" is not measurable (give a number, like 15% or 2 days)"
        ));
    }
    Ok((change.to_owned(), effect.to_owned(), amount.to_owned()))
}

impl<'de> Deserialize<'de> for Hypothesis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Hypothesis::parse(&String::deserialize(d)?))
    }
}

impl JsonSchema for Hypothesis {
    fn schema_name() -> Cow<'static, str> {
        "Hypothesis".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[Ww]e believe .+ will .+ by .*[0-9].*$",
            "description": "We believe <change> will <move a metric> by <amount>"
        })
    }
}

/// `[debt]`: the technical debt register and how debt work is recognised and counted.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebtConfig {
    /// Another file holding the items as `[[items]]`: a `.toml` file, relative to the
    /// repository's root.
    #[serde(default, deserialize_with = "items_path")]
    pub file: Option<String>,
    /// Comment markers that flag debt in code.
    #[serde(default = "default_markers")]
    pub markers: Vec<String>,
    /// Code that silences a tool instead of fixing what it found (`#[allow(`, `eslint-disable`,
    /// `# type: ignore`, …): adding one is debt added. An empty list turns the signal off.
    #[serde(default = "default_suppressions")]
    pub suppressions: Vec<String>,
    /// How far, in percentage points, coverage of the changed files may move before it counts
    /// as debt added (or paid down); smaller moves are noise.
    #[serde(default = "default_coverage_dip")]
    pub coverage_dip: crate::units::Percent,
    /// Issues with this label are debt too (a change that fixes one reduces debt).
    #[serde(default = "default_issue_label")]
    pub issue_label: String,
    /// The share of merged pull requests (or of changed lines) the team means to spend on
    /// debt, from 0 to 1.
    pub capacity_target: Option<f64>,
    /// What the capacity share counts.
    #[serde(default)]
    pub capacity_unit: CapacityUnit,
    /// Adding debt fails the definition of done (default: informational only).
    #[serde(default)]
    pub blocking: bool,
    /// The labels Keel puts on a change.
    #[serde(default)]
    pub labels: DebtLabels,
    /// The register.
    #[serde(default)]
    pub items: Vec<DebtItem>,
    /// The currency of `cost_per_month`: an ISO 4217 code (`EUR`) or a symbol (`€`), shown
    /// with every amount.
    #[serde(default, deserialize_with = "currency")]
    pub currency: Option<String>,
}

impl Default for DebtConfig {
    fn default() -> Self {
        DebtConfig {
            file: None,
            markers: default_markers(),
            suppressions: default_suppressions(),
            coverage_dip: default_coverage_dip(),
            issue_label: default_issue_label(),
            capacity_target: None,
            capacity_unit: CapacityUnit::default(),
            blocking: false,
            labels: DebtLabels::default(),
            items: Vec::new(),
            currency: None,
        }
    }
}

fn default_markers() -> Vec<String> {
    ["TODO", "FIXME", "HACK", "XXX"].map(String::from).to_vec()
}

/// The default `[debt] suppressions`: code comments and attributes that silence a tool instead of fixing what it found.
pub const SUPPRESSIONS: &[&str] = &[
    "#[allow(",
    "#![allow(",
    "#[ignore]",
    "eslint-disable",
    "@ts-ignore",
    "@ts-expect-error",
    "# noqa",
    "# type: ignore",
    "// nolint",
    "//nolint",
    "@SuppressWarnings",
    "# pylint: disable",
    "NOSONAR",
];

fn default_suppressions() -> Vec<String> {
    SUPPRESSIONS.iter().map(|s| (*s).to_owned()).collect()
}

fn default_coverage_dip() -> crate::units::Percent {
    crate::units::Percent(1.0)
}

/// Currency symbols a `[debt] currency` may be (with ISO 4217 codes, three capital letters).
const CURRENCY_SYMBOLS: &str = "$€£¥₹₩₽₺₴₦₱฿₫₪₡₲₵₸₭₮₼₾";

/// `[debt] currency`: an ISO 4217 code or one currency symbol, nothing a summary could turn
/// into a mention, a link or markup.
fn currency<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    let code = text.len() == 3 && text.chars().all(|c| c.is_ascii_uppercase());
    let symbol = text.chars().count() == 1 && CURRENCY_SYMBOLS.contains(text.as_str());
    if code || symbol {
        Ok(Some(text))
    } else {
        Err(serde::de::Error::custom(format!(
            "`{}` is not a currency: write an ISO 4217 code such as `EUR` or a symbol such as `€`",
            text.chars().take(40).collect::<String>()
        )))
    }
}

fn default_issue_label() -> String {
    "tech-debt".into()
}

/// What the debt capacity share counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CapacityUnit {
    /// Merged pull requests.
    #[default]
    Prs,
    /// Changed lines of merged pull requests.
    Lines,
}

/// The debt labels (created by GitHub when first used).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebtLabels {
    /// On a change that reduces debt.
    #[serde(default = "label_reduced")]
    pub reduced: String,
    /// On a change that adds debt.
    #[serde(default = "label_added")]
    pub added: String,
    /// Put on by people: Keel then makes no debt call at all.
    #[serde(default = "label_none")]
    pub none: String,
    /// The colour the `reduced` label is created with (6 hex digits).
    #[serde(default = "color_reduced")]
    pub reduced_color: Color,
    /// The colour the `added` label is created with.
    #[serde(default = "color_added")]
    pub added_color: Color,
}

impl Default for DebtLabels {
    fn default() -> Self {
        DebtLabels {
            reduced: label_reduced(),
            added: label_added(),
            none: label_none(),
            reduced_color: color_reduced(),
            added_color: color_added(),
        }
    }
}

/// A label colour: six hex digits, with or without a leading `#`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Color(pub String);

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let hex = text.trim_start_matches('#');
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not a colour: give six hex digits, like \"0e8a16\""
            )));
        }
        Ok(Color(hex.to_ascii_lowercase()))
    }
}

fn color_reduced() -> Color {
    Color("0e8a16".into())
}
fn color_added() -> Color {
    Color("d93f0b".into())
}

fn label_reduced() -> String {
    "debt: reduced".into()
}
fn label_added() -> String {
    "debt: added".into()
}
fn label_none() -> String {
    "debt: none".into()
}

/// One item of the debt register, with what it costs the business.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebtItem {
    /// Its id (`DEBT-7`).
    pub id: ItemId,
    /// A short title.
    pub title: String,
    /// Days each feature touching it is slowed by.
    pub slows_delivery_days: Option<f64>,
    /// Chance it causes an outage this quarter, %.
    pub outage_risk_pct: Option<f64>,
    /// What it costs each month (money, in the team's currency).
    pub cost_per_month: Option<f64>,
    /// Anything else a business lead should know.
    pub impact: Option<String>,
    /// Files it lives in.
    #[serde(default)]
    pub paths: PathGlobs,
    /// Who owns it.
    pub owner: Option<String>,
}

/// A separate roadmap or debt file: `[[items]]` tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemsFile<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}
