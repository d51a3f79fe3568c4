//! Presets a config starts from (`extends = "keel:recommended"`): sensible definitions of done
//! that ship with Keel, so a team writes only what differs. The preset is read first and the
//! repository's file over it, section by section and key by key ([`merge`]). The presets live
//! in `presets/*.toml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A preset Keel ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Preset {
    /// Nothing gets worse against the base branch; targets for new code warn.
    #[serde(rename = "keel:recommended")]
    Recommended,
    /// No drop at all, tested new code, no new medium finding; small, linked changes.
    #[serde(rename = "keel:strict")]
    Strict,
}

impl Preset {
    /// Every preset, for documentation and tests.
    pub const ALL: [Preset; 2] = [Preset::Recommended, Preset::Strict];

    /// The name a config uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Recommended => "keel:recommended",
            Preset::Strict => "keel:strict",
        }
    }

    /// Its text (TOML, a config in its own right).
    pub fn text(self) -> &'static str {
        match self {
            Preset::Recommended => include_str!("../../presets/recommended.toml"),
            Preset::Strict => include_str!("../../presets/strict.toml"),
        }
    }
}

/// `over` merged into `base` section by section: a section (`[coverage]`) present in both
/// keeps the preset's keys the file does not set, and each key the file sets replaces the
/// preset's whole value — a criterion written as a table (`{ threshold = 90, why = "…" }`)
/// is one value, so it never inherits the preset's `level`.
pub(super) fn merge(base: &mut toml::Table, over: toml::Table) {
    for (section, value) in over {
        match (base.get_mut(&section), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => {
                for (key, value) in theirs {
                    mine.insert(key, value);
                }
            }
            (_, value) => {
                base.insert(section, value);
            }
        }
    }
}
