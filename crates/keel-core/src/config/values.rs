//! The values a config holds that can be wrong, checked while they are read (so toml attaches
//! the span and every error is `file:line:column`): regular expressions, quantities with
//! units, percentages, and criteria written bare or as a table; each with its JSON Schema.

use super::{Criterion, Level};
use crate::units::{Percent, Quantity};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A regular expression, checked when the config is read.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        regex::Regex::new(&text).map(Pattern).map_err(|e| {
            let first = e.to_string();
            let summary = first.lines().last().unwrap_or("invalid").trim().to_owned();
            serde::de::Error::custom(format!("invalid regular expression `{text}`: {summary}"))
        })
    }
}

impl JsonSchema for Pattern {
    fn schema_name() -> Cow<'static, str> {
        "Pattern".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "regex"})
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string with a unit, like \"10ms\" or \"2MB\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                format!("{v}").parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity {
                    value: v as f64,
                    dimension: crate::units::Dimension::Plain,
                })
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                format!("{v}").parse().map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(JsonSchema)]
#[schemars(
    description = "A number, or a string with a unit: ns, us, ms, s, B, KB, MB, GB, KiB, MiB, GiB"
)]
#[expect(dead_code, reason = "only describes the JSON Schema of a quantity")]
#[serde(untagged)]
pub(super) enum QuantitySchema {
    Number(f64),
    Text(String),
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A percentage: a number from 0 to 100, or a string like \"80%\"",
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 100},
                {"type": "string", "pattern": "^\\s*\\d+(\\.\\d+)?\\s*%?\\s*$"}
            ]
        })
    }
}

impl<T: JsonSchema> JsonSchema for Criterion<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Criterion_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let threshold = g.subschema_for::<T>();
        let level = g.subschema_for::<Level>();
        schemars::json_schema!({
            "description": "The threshold alone (required), or a table with `threshold`, `level` and `why`",
            "anyOf": [
                threshold,
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["threshold"],
                    "properties": {
                        "threshold": threshold,
                        "level": level,
                        "why": {"type": "string", "description": "The business reason, shown when it fails"}
                    }
                }
            ]
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionTable<T> {
    threshold: T,
    #[serde(default)]
    level: Level,
    why: Option<String>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Criterion<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::IntoDeserializer;
        use serde::de::value::{
            BoolDeserializer, F64Deserializer, I64Deserializer, StrDeserializer,
        };
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Criterion<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a threshold, or a table with `threshold`, `level` and `why`")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(BoolDeserializer::<E>::new(v)).map(Criterion::required)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(I64Deserializer::<E>::new(v)).map(Criterion::required)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(Criterion::required)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(F64Deserializer::<E>::new(v)).map(Criterion::required)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(StrDeserializer::<E>::new(v)).map(Criterion::required)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let t = CriterionTable::<T>::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(Criterion {
                    threshold: t.threshold,
                    level: t.level,
                    why: t.why,
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}
