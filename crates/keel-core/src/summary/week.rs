//! ISO weeks in the team's timezone (a fixed UTC offset: `UTC`, `+02:00`, `-05:30`).

use serde::{Deserialize, Serialize};

/// A timezone as a fixed offset from UTC, in minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset(pub i32);

impl Offset {
    /// Reads `UTC`, `Z`, `+HH:MM`, `-HH:MM` or `+HH`.
    pub fn parse(text: &str) -> Result<Offset, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(Offset(0));
        }
        let bad = || {
            format!(
                "`{text}` is not a timezone: use `UTC` or an offset like `+02:00` (names like Europe/Berlin are not supported yet)"
            )
        };
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(Offset(sign * (h * 60 + m)))
    }
}

/// One ISO week in a timezone: its name and its bounds as unix milliseconds, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Week {
    /// `2026-W48`.
    pub name: String,
    /// Monday 00:00 local time.
    pub start: i64,
    /// The next Monday 00:00 local time.
    pub end: i64,
}

const DAY_MS: i64 = 24 * 3600 * 1000;
const WEEK_MS: i64 = 7 * DAY_MS;

impl Week {
    /// The week containing instant `at_ms`.
    pub fn containing(at_ms: i64, offset: Offset) -> Week {
        let local = at_ms + i64::from(offset.0) * 60_000;
        // 1970-01-01 was a Thursday: Monday 1969-12-29 is day -3.
        let days = local.div_euclid(DAY_MS);
        let monday = days - (days + 3).rem_euclid(7);
        let start_local = monday * DAY_MS;
        let start = start_local - i64::from(offset.0) * 60_000;
        Week {
            name: iso_name(monday),
            start,
            end: start + WEEK_MS,
        }
    }

    /// The week named `2026-W47`.
    pub fn named(name: &str, offset: Offset) -> Result<Week, String> {
        let bad = || format!("`{name}` is not an ISO week like 2026-W47");
        let (year, week) = name.split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        let date =
            chrono::NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        let monday_days = date
            .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?)
            .num_days();
        let start = monday_days * DAY_MS - i64::from(offset.0) * 60_000;
        Ok(Week {
            name: iso_name(monday_days),
            start,
            end: start + WEEK_MS,
        })
    }

    /// The week before.
    pub fn previous(&self, offset: Offset) -> Week {
        Week::containing(self.start - 1, offset)
    }
}

fn iso_name(monday_days: i64) -> String {
    use chrono::Datelike;
    let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .unwrap_or_default()
        .checked_add_signed(chrono::Duration::days(monday_days))
        .unwrap_or_default();
    let w = date.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}
