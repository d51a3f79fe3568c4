//! Quantities with units (`10ms`, `2 MB`, `42`) and percentages (`5%`), parsed and printed.
//!
//! Times normalise to nanoseconds and sizes to bytes, so budgets and measurements compare
//! directly. Decimal units (`KB` = 1000 B) and binary ones (`KiB` = 1024 B) are both accepted.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a quantity measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// A duration, in nanoseconds.
    Time,
    /// A size, in bytes.
    Bytes,
    /// A plain number.
    Plain,
}

/// A number with a dimension, normalised (ns for time, bytes for sizes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantity {
    /// Normalised value.
    pub value: f64,
    /// What it measures.
    pub dimension: Dimension,
}

/// The factor to the base unit, and the dimension, of a unit name.
pub fn unit(name: &str) -> Option<(f64, Dimension)> {
    use Dimension::*;
    Some(match name {
        "" => (1.0, Plain),
        "ns" => (1.0, Time),
        "us" | "µs" | "μs" => (1e3, Time),
        "ms" => (1e6, Time),
        "s" => (1e9, Time),
        "B" | "b" => (1.0, Bytes),
        "KB" | "kB" => (1e3, Bytes),
        "MB" => (1e6, Bytes),
        "GB" => (1e9, Bytes),
        "KiB" => (1024.0, Bytes),
        "MiB" => (1024.0 * 1024.0, Bytes),
        "GiB" => (1024.0 * 1024.0 * 1024.0, Bytes),
        _ => return None,
    })
}

impl Quantity {
    /// A quantity from a number and a unit name (`""` for plain numbers).
    pub fn new(value: f64, unit_name: &str) -> Option<Quantity> {
        let (factor, dimension) = unit(unit_name.trim())?;
        Some(Quantity {
            value: value * factor,
            dimension,
        })
    }
}

impl std::str::FromStr for Quantity {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
            .unwrap_or(t.len());
        // "1e3ms" is fine, but a trailing "e" belongs to no unit we know: keep it simple.
        let (number, unit_name) = t.split_at(split);
        let value: f64 = number.parse().map_err(|_| {
            format!("`{text}` is not a number with a unit (e.g. `10ms`, `2MB`, `42`)")
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(format!("`{text}` must be a finite, non-negative number"));
        }
        Quantity::new(value, unit_name).ok_or_else(|| {
            format!(
                "unknown unit `{}` in `{text}`; use ns, us, ms, s, B, KB, MB, GB, KiB, MiB or GiB",
                unit_name.trim()
            )
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        let (scaled, unit_name) = match self.dimension {
            Dimension::Plain => (v, ""),
            Dimension::Time if v >= 1e9 => (v / 1e9, " s"),
            Dimension::Time if v >= 1e6 => (v / 1e6, " ms"),
            Dimension::Time if v >= 1e3 => (v / 1e3, " µs"),
            Dimension::Time => (v, " ns"),
            Dimension::Bytes if v >= 1e9 => (v / 1e9, " GB"),
            Dimension::Bytes if v >= 1e6 => (v / 1e6, " MB"),
            Dimension::Bytes if v >= 1e3 => (v / 1e3, " KB"),
            Dimension::Bytes => (v, " B"),
        };
        write!(f, "{}{unit_name}", significant(scaled))
    }
}

/// A whole amount with thousands separated: `1234567.4` as `1,234,567`.
pub fn thousands(v: f64) -> String {
    let whole = v.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 {
        out.insert(0, '-');
    }
    out
}

/// A number with about four significant digits and no trailing zeros.
pub fn significant(v: f64) -> String {
    let decimals = match v.abs() {
        a if a >= 1000.0 => 0,
        a if a >= 100.0 => 1,
        a if a >= 10.0 => 2,
        _ => 3,
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A percentage, 0–100 (`80`, `80.5` or `"80%"` in config).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Percent(pub f64);

impl std::str::FromStr for Percent {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let number = t.strip_suffix('%').unwrap_or(t).trim();
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a percentage (e.g. `80` or `\"80%\"`)"))?;
        Percent::checked(value)
    }
}

impl Percent {
    /// A percentage, if within 0–100.
    pub fn checked(value: f64) -> Result<Percent, String> {
        if (0.0..=100.0).contains(&value) {
            Ok(Percent(value))
        } else {
            Err(format!("{value} is not a percentage between 0 and 100"))
        }
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", significant(self.0))
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage: a number from 0 to 100, or a string like \"80%\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Percent, E> {
                Percent::checked(v as f64).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Percent, E> {
                Percent::checked(v as f64).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Percent, E> {
                Percent::checked(v).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Percent, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Floors a percentage to two decimals for display, so 79.999 never shows as 80.00.
pub fn floor_percent(p: f64) -> String {
    format!("{:.2}%", (p * 100.0 + 1e-9).floor() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_normalise_to_base_units() {
        let q: Quantity = "10ms".parse().unwrap();
        assert_eq!((q.value, q.dimension), (1e7, Dimension::Time));
        let q: Quantity = "2 MiB".parse().unwrap();
        assert_eq!(
            (q.value, q.dimension),
            (2.0 * 1024.0 * 1024.0, Dimension::Bytes)
        );
        let q: Quantity = "42".parse().unwrap();
        assert_eq!((q.value, q.dimension), (42.0, Dimension::Plain));
        assert!(
            "10 parsecs"
                .parse::<Quantity>()
                .unwrap_err()
                .contains("unknown unit `parsecs`")
        );
        assert!("-3ms".parse::<Quantity>().is_err());
    }

    #[test]
    fn quantities_print_in_a_readable_unit() {
        assert_eq!(Quantity::new(1.5, "ms").unwrap().to_string(), "1.5 ms");
        assert_eq!(Quantity::new(999.0, "ns").unwrap().to_string(), "999 ns");
        assert_eq!(Quantity::new(2500.0, "B").unwrap().to_string(), "2.5 KB");
    }

    #[test]
    fn percentages_accept_numbers_and_strings_within_range() {
        assert_eq!("80%".parse::<Percent>().unwrap(), Percent(80.0));
        assert_eq!(" 12.5 ".parse::<Percent>().unwrap(), Percent(12.5));
        assert!("120%".parse::<Percent>().is_err());
        assert!("abc".parse::<Percent>().is_err());
    }

    #[test]
    fn percentages_are_floored_for_display() {
        assert_eq!(floor_percent(79.999), "79.99%");
        assert_eq!(floor_percent(84.375), "84.37%");
        assert_eq!(floor_percent(100.0), "100.00%");
    }
}
