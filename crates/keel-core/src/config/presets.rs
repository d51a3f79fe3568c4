//! Presets a config starts from (`extends = "keel:recommended"`): sensible definitions of done
//! that ship with Keel, so a team writes only what differs. The preset is read first and the
//! repository's file over it, key by key: a table merges into the preset's table of the same
//! name, any other value replaces the preset's. The presets live in `presets/*.toml`.

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

/// `over` merged into `base`: tables merge key by key (recursively), anything else in `over`
/// replaces what `base` has.
pub(super) fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge(mine, theirs),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}
