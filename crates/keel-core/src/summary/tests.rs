use super::dora::{self, Change, Deployment, History, Incident, Source, bands};
use crate::week::{Week, Zone};
use proptest::prelude::*;

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

fn deploy(sha: &str, when: &str, succeeded: bool) -> Deployment {
    Deployment {
        sha: sha.into(),
        finished_at: at(when),
        succeeded,
    }
}

fn change(
    number: u64,
    first: Option<&str>,
    merged: &str,
    sha: &str,
    reverts: Option<u64>,
) -> Change {
    Change {
        number,
        first_commit_at: first.map(at),
        merged_at: at(merged),
        merge_sha: Some(sha.into()),
        reverts,
    }
}

/// W48 of 2026 (Mon 23 Nov – Sun 29 Nov, UTC), worked out by hand:
/// - D1 `aaa` Tue 10:00 ok; an incident opens Tue 12:00 (before D2), closes 18:00 → D1 failed,
///   restore 6 h.
/// - PR1: first commit Mon 10:00, squash-merged Mon 20:00 as `s1` (never deployed by sha) →
///   ships with D1 → lead 24 h.
/// - PR2: first commit Sun 22 Nov 10:00 (W47), merged Wed 10:00 as `bbb` → ships with D2
///   (Thu 10:00, sha `bbb`) → lead 96 h. PR4 (Fri 10:00) reverts PR2 → D2 failed.
/// - D3 `ccc` Fri 09:00 fails → restored by D4 Fri 11:00 → 2 h.
/// - PR3 (first commit Fri 27 10:00) merged Sat 12:00: no deployment that week, so it ships
///   with W49's first one (Tue 1 Dec 09:00) → lead 95 h, counted in W49.
///
/// Deployments 3 (D1, D2, D4); lead median (24 + 96) / 2 = 60 h; CFR 3 of 4 attempts;
/// time to restore median of 6 h and 2 h = 4 h.
/// W49: `eee` ships PR3, `fff` ships no pull request; the incident spanning into W50 (4 h).
fn w48() -> History {
    History {
        changes: vec![
            change(
                1,
                Some("2026-11-23T10:00:00Z"),
                "2026-11-23T20:00:00Z",
                "s1",
                None,
            ),
            change(
                2,
                Some("2026-11-22T10:00:00Z"),
                "2026-11-25T10:00:00Z",
                "bbb",
                None,
            ),
            change(
                3,
                Some("2026-11-27T10:00:00Z"),
                "2026-11-28T12:00:00Z",
                "s3",
                None,
            ),
            change(4, None, "2026-11-27T10:00:00Z", "s4", Some(2)),
        ],
        deployments: vec![
            deploy("aaa", "2026-11-24T10:00:00Z", true),
            deploy("bbb", "2026-11-26T10:00:00Z", true),
            deploy("ccc", "2026-11-27T09:00:00Z", false),
            deploy("ddd", "2026-11-27T11:00:00Z", true),
            deploy("eee", "2026-12-01T09:00:00Z", true),
            // W49: a deployment that ships no pull request.
            deploy("fff", "2026-12-02T09:00:00Z", true),
        ],
        incidents: vec![
            Incident {
                number: None,
                opened_at: at("2026-11-24T12:00:00Z"),
                closed_at: Some(at("2026-11-24T18:00:00Z")),
                root_cause: None,
            },
            // Spans W49 into W50: counted in W49, the week it began.
            Incident {
                number: None,
                opened_at: at("2026-12-06T23:00:00Z"),
                closed_at: Some(at("2026-12-07T03:00:00Z")),
                root_cause: Some("zzz".into()),
            },
        ],
        releases: vec![],
        pushes: Default::default(),
    }
}

/// One week's metrics against hand-computed values.
fn check(
    history: &History,
    week: &str,
    source: Source,
    expected: (u64, Option<f64>, Option<f64>, Option<f64>),
) {
    let week = Week::named(week, Zone::UTC).unwrap();
    let m = dora::week_metrics(history, &week, source);
    let got = (
        m.deployments,
        m.lead_time_hours,
        m.change_failure_rate,
        m.time_to_restore_hours,
    );
    assert_eq!(got, expected, "{}", week.name);
}

#[test]
fn each_dora_metric_matches_the_hand_computed_week() {
    let h = w48();
    assert_eq!(dora::source(&h, Source::Merges), Source::Deployments);
    check(
        &h,
        "2026-W48",
        Source::Deployments,
        (3, Some(60.0), Some(0.75), Some(4.0)),
    );
    // A deployment with no pull requests is counted and adds no lead time.
    check(
        &h,
        "2026-W49",
        Source::Deployments,
        (2, Some(95.0), Some(0.0), Some(4.0)),
    );
    // No deployments at all: nothing to divide by.
    check(&h, "2026-W50", Source::Deployments, (0, None, None, None));
}

#[test]
fn without_deployments_merges_stand_in_and_a_revert_fails_what_it_reverts() {
    let h = History {
        changes: vec![
            change(
                1,
                Some("2026-11-23T08:00:00Z"),
                "2026-11-23T20:00:00Z",
                "m1",
                None,
            ),
            change(
                2,
                Some("2026-11-24T00:00:00Z"),
                "2026-11-24T02:00:00Z",
                "m2",
                None,
            ),
            change(3, None, "2026-11-25T00:00:00Z", "m3", Some(2)),
        ],
        ..History::default()
    };
    assert_eq!(dora::source(&h, Source::Merges), Source::Merges);
    // Three merges; lead times 12 h and 2 h → 7 h; PR 2 was reverted → 1 of 3 failed.
    check(
        &h,
        "2026-W48",
        Source::Merges,
        (3, Some(7.0), Some(1.0 / 3.0), None),
    );
}

#[test]
fn an_incident_naming_its_root_cause_fails_that_deployment_only() {
    let h = History {
        deployments: vec![
            deploy("a1", "2026-11-23T10:00:00Z", true),
            deploy("a2", "2026-11-24T10:00:00Z", true),
        ],
        incidents: vec![Incident {
            number: None,
            opened_at: at("2026-11-25T10:00:00Z"),
            closed_at: None,
            root_cause: Some("a1".into()),
        }],
        ..History::default()
    };
    // a1 is named; the incident opened after a2 but names a1, so a2 is not blamed. An
    // unresolved incident has no time to restore yet.
    check(
        &h,
        "2026-W48",
        Source::Deployments,
        (2, None, Some(0.5), None),
    );
}

#[test]
fn bands_follow_the_2023_dora_thresholds() {
    use dora::Band::*;
    assert_eq!(bands::deployment_frequency(10.0), Elite);
    assert_eq!(bands::deployment_frequency(1.0), High);
    assert_eq!(bands::deployment_frequency(0.25), Medium);
    assert_eq!(bands::deployment_frequency(0.1), Low);
    assert_eq!(bands::lead_time(23.9), Elite);
    assert_eq!(bands::lead_time(60.0), High);
    assert_eq!(bands::lead_time(200.0), Medium);
    assert_eq!(bands::lead_time(800.0), Low);
    assert_eq!(bands::change_failure_rate(0.05), Elite);
    assert_eq!(bands::change_failure_rate(0.1), High);
    assert_eq!(bands::change_failure_rate(0.15), Medium);
    assert_eq!(bands::change_failure_rate(0.75), Low);
    assert_eq!(bands::time_to_restore(0.5), Elite);
    assert_eq!(bands::time_to_restore(4.0), High);
    assert_eq!(bands::time_to_restore(100.0), Medium);
    assert_eq!(bands::time_to_restore(200.0), Low);
}

#[test]
fn weeks_are_named_and_bounded_in_the_configured_offset() {
    let utc = Week::named("2026-W48", Zone::UTC).unwrap();
    assert_eq!(
        (utc.start, utc.end - utc.start),
        (at("2026-11-23T00:00:00Z"), 7 * 86_400_000)
    );
    let berlin = Zone::parse("+01:00").unwrap();
    // Sunday 23:30 UTC is already Monday in +01:00.
    assert_eq!(
        Week::containing(at("2026-11-29T23:30:00Z"), berlin).name,
        "2026-W49"
    );
    assert_eq!(
        Week::containing(at("2026-11-29T23:30:00Z"), Zone::UTC).name,
        "2026-W48"
    );
    assert_eq!(
        Week::named("2026-W49", berlin).unwrap().start,
        at("2026-11-29T23:00:00Z")
    );
    assert_eq!(
        Week::containing(at("2027-01-01T12:00:00Z"), Zone::UTC).name,
        "2026-W53"
    );
    assert_eq!(Zone::parse("-05:30").unwrap(), Zone::Fixed(-330));
    assert!(
        Zone::parse("Mars/Olympus")
            .unwrap_err()
            .contains("is not a timezone")
    );
    // A named zone follows daylight saving: Berlin is +01:00 in November, +02:00 in July.
    let named = Zone::parse("Europe/Berlin").unwrap();
    assert_eq!(
        Week::named("2026-W48", named).unwrap().start,
        at("2026-11-22T23:00:00Z")
    );
    assert_eq!(
        Week::named("2026-W28", named).unwrap().start,
        at("2026-07-05T22:00:00Z")
    );
    // The week the clocks go forward (29 March 2026) is an hour short.
    let spring = Week::named("2026-W13", named).unwrap();
    assert_eq!(spring.end - spring.start, 7 * 86_400_000 - 3_600_000);
}

fn arb_history() -> impl Strategy<Value = History> {
    let t = 0i64..(20 * 86_400_000);
    let change = (
        0u64..20,
        proptest::option::of(t.clone()),
        t.clone(),
        0u8..5,
        proptest::option::of(0u64..20),
    )
        .prop_map(|(number, first, merged, sha, reverts)| Change {
            number,
            first_commit_at: first,
            merged_at: merged,
            merge_sha: Some(format!("s{sha}")),
            reverts,
        });
    let deployment = (0u8..5, t.clone(), any::<bool>()).prop_map(|(sha, at, ok)| Deployment {
        sha: format!("s{sha}"),
        finished_at: at,
        succeeded: ok,
    });
    let incident = (
        t.clone(),
        proptest::option::of(t),
        proptest::option::of(0u8..5),
    )
        .prop_map(|(opened, closed, cause)| Incident {
            number: None,
            opened_at: opened,
            closed_at: closed,
            root_cause: cause.map(|c| format!("s{c}")),
        });
    (
        proptest::collection::vec(change, 0..20),
        proptest::collection::vec(deployment, 0..20),
        proptest::collection::vec(incident, 0..6),
    )
        .prop_map(|(changes, deployments, incidents)| History {
            changes,
            deployments,
            incidents,
            releases: vec![],
            pushes: Default::default(),
        })
}

proptest! {
    #[test]
    fn the_change_failure_rate_stays_within_0_and_1(h in arb_history(), source in prop_oneof![Just(Source::Deployments), Just(Source::Merges)]) {
        for week in ["1970-W01", "1970-W02", "1970-W03"] {
            let m = dora::week_metrics(&h, &Week::named(week, Zone::UTC).unwrap(), source);
            if let Some(rate) = m.change_failure_rate {
                prop_assert!((0.0..=1.0).contains(&rate), "{rate}");
            }
            for v in [m.lead_time_hours, m.time_to_restore_hours].into_iter().flatten() {
                prop_assert!(v >= 0.0);
            }
        }
    }

    #[test]
    fn a_median_lies_within_its_inputs(mut values in proptest::collection::vec(-1e6f64..1e6, 1..50)) {
        let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        let m = dora::median(&mut values).unwrap();
        prop_assert!(lo <= m && m <= hi);
    }

    #[test]
    fn a_week_contains_its_instant_and_starts_on_a_local_monday(ts in -1_000_000_000_000i64..4_000_000_000_000, minutes in -720i32..=840) {
        use chrono::Datelike;
        let offset = Zone::Fixed(minutes);
        let week = Week::containing(ts, offset);
        prop_assert!(week.start <= ts && ts < week.end);
        let local_start = chrono::DateTime::from_timestamp_millis(week.start + i64::from(minutes) * 60_000).unwrap();
        prop_assert_eq!(local_start.weekday(), chrono::Weekday::Mon);
        prop_assert_eq!(local_start.timestamp_millis() % 86_400_000, 0);
        let local = chrono::DateTime::from_timestamp_millis(ts + i64::from(minutes) * 60_000).unwrap();
        let iso = local.iso_week();
        prop_assert_eq!(week.name, format!("{}-W{:02}", iso.year(), iso.week()));
    }
}

proptest! {
    #[test]
    fn named_zone_weeks_contain_their_instant_and_start_at_a_local_monday_midnight(
        ts in 0i64..4_000_000_000_000,
        zone in prop_oneof![Just("Europe/Berlin"), Just("America/New_York"), Just("Australia/Sydney"), Just("Asia/Kolkata")],
    ) {
        use chrono::{Datelike, Timelike};
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let week = Week::containing(ts, Zone::Named(tz));
        prop_assert!(week.start <= ts && ts < week.end);
        let local = chrono::DateTime::from_timestamp_millis(week.start).unwrap().with_timezone(&tz);
        prop_assert_eq!(local.weekday(), chrono::Weekday::Mon);
        prop_assert_eq!((local.hour(), local.minute()), (0, 0));
        let next = Week::containing(week.end, Zone::Named(tz));
        prop_assert_eq!(next.start, week.end);
    }
}
