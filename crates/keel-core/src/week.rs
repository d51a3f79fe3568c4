//! ISO weeks in the team's timezone: an IANA name (`Europe/Berlin`, daylight saving included)
//! or a fixed offset (`UTC`, `+02:00`). A week runs from local Monday 00:00 to the next.

use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Serialize;
use std::str::FromStr;

/// A timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset from UTC, in minutes.
    Fixed(i32),
    /// An IANA timezone.
    Named(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Fixed(0);

    /// Reads `UTC`, `Z`, `+HH:MM`, `-HH:MM`, `+HH` or an IANA name like `Europe/Berlin`.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(Zone::UTC);
        }
        let bad = || {
            format!(
                "`{text}` is not a timezone: use an IANA name like `Europe/Berlin`, `UTC`, or an offset like `+02:00`"
            )
        };
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => {
                return chrono_tz::Tz::from_str(t)
                    .map(Zone::Named)
                    .map_err(|_| bad());
            }
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(Zone::Fixed(sign * (h * 60 + m)))
    }

    /// The local calendar date at instant `at_ms`.
    pub fn local_date(self, at_ms: i64) -> NaiveDate {
        let utc = chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default();
        match self {
            Zone::Fixed(m) => (utc + chrono::Duration::minutes(i64::from(m))).date_naive(),
            Zone::Named(tz) => utc.with_timezone(&tz).date_naive(),
        }
    }

    /// The instant local midnight of `date` begins (the first valid local time of the day).
    pub fn start_of(self, date: NaiveDate) -> i64 {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self {
            Zone::Fixed(m) => midnight.and_utc().timestamp_millis() - i64::from(m) * 60_000,
            Zone::Named(tz) => {
                // A day may start in a gap (a clock jumping at midnight): take the first
                // valid minute after it.
                (0..=180)
                    .find_map(|minutes| {
                        tz.from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                            .earliest()
                    })
                    .map_or_else(
                        || midnight.and_utc().timestamp_millis(),
                        |t| t.timestamp_millis(),
                    )
            }
        }
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(m) => {
                let sign = if *m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            Zone::Named(tz) => f.write_str(tz.name()),
        }
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

impl Week {
    /// The week containing instant `at_ms`.
    pub fn containing(at_ms: i64, zone: Zone) -> Week {
        let date = zone.local_date(at_ms);
        let monday =
            date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()));
        Week::of_monday(monday, zone)
    }

    /// The week named `2026-W47`.
    pub fn named(name: &str, zone: Zone) -> Result<Week, String> {
        let bad = || format!("`{name}` is not an ISO week like 2026-W47");
        let (year, week) = name.split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        // Four-digit years only: a week near the end of chrono's calendar has no next one.
        if !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        let week: u32 = week.parse().map_err(|_| bad())?;
        let monday =
            NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        Ok(Week::of_monday(monday, zone))
    }

    /// The week before.
    pub fn previous(&self, zone: Zone) -> Week {
        Week::containing(self.start - 1, zone)
    }

    fn of_monday(monday: NaiveDate, zone: Zone) -> Week {
        let w = monday.iso_week();
        Week {
            name: format!("{}-W{:02}", w.year(), w.week()),
            start: zone.start_of(monday),
            end: zone.start_of(monday + chrono::Duration::days(7)),
        }
    }
}
