//! The weekly issue and the organisation roll-up as a lead reads them: a busy week, an empty
//! week and a week with missing data, each pinned by a snapshot and by the sentences a lead
//! must not misread.

use super::{body, dates, rollup};
use crate::config::Day;
use crate::summary::dora::{self, Change, Deployment, History, Incident, Source};
use crate::summary::report::{
    CycleTimes, FailedCriterion, Health, MergedChange, Outcome, WaiverGiven, WeeklyReport,
};
use crate::week::{Week, Zone};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;

fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// Monday 23 Nov 2026 00:00 UTC: the start of 2026-W48.
fn w48() -> i64 {
    at("2026-11-23T00:00:00Z")
}

const CONFIG: &str = r#"
[coverage]
min_total = 80

[[roadmap.items]]
id = "R-12"
title = "One-page checkout"
hypothesis = "We believe a one-page checkout will reduce cart abandonment by 15%"
metric = "cart abandonment"
target = "15%"
issues = [40]

[[roadmap.items]]
id = "R-3"
title = "Faster search"
status = "active"
issues = [41]

[[roadmap.items]]
id = "R-5"
title = "Saved carts"
status = "planned"

[debt]
capacity_target = 0.2
currency = "EUR"

[[debt.items]]
id = "DEBT-7"
title = "Legacy payment adapter"
slows_delivery_days = 2
cost_per_month = 1200

[[debt.items]]
id = "DEBT-9"
title = "Flaky end-to-end tests"
outage_risk_pct = 5
cost_per_month = 300
"#;

/// Eight weeks of history ending in W48. Weeks W41–W47 each have two successful deployments
/// (Tuesday and Thursday) shipping one change with a 20 h lead time. W48 (worked out by hand):
/// - `a48` Tue 10:00 ships #1 (first commit Mon 08:00, merged Mon 20:00): lead 26 h;
///   incident #50 (root cause `s2`, a head `b48` shipped) fails `b48`.
/// - `b48` Wed 10:00 ships #2 (merged Tue 20:00) and the head `s2` pushed before it:
///   lead 50 h (first commit Mon 08:00).
/// - `c48` Thu 09:00 fails; `d48` Thu 11:00 ships #3 (first commit Wed 08:00): lead 27 h,
///   and restores (2 h).
/// - #4 reverts #3 (merged Fri 10:00, shipped by nothing yet).
///
/// Deployments 3; lead median of 26, 27, 50 h = 27 h; failures `b48` (incident), `c48`
/// (status), `d48` (revert of #3): 3 of 4 attempts = 75%; restore: incident #50 open 4 h, the
/// failed `c48` 2 h → median 3 h.
fn busy_history(first_week: i64) -> History {
    let mut h = History::default();
    let mut previous = String::new();
    for week in first_week..7 {
        let monday = w48() - (7 - week) * 7 * DAY;
        for (i, day) in [1i64, 3].into_iter().enumerate() {
            let sha = format!("w{week}d{i}");
            let number = 100 + (week as u64) * 2 + i as u64;
            h.changes.push(Change {
                number,
                first_commit_at: Some(monday + day * DAY - 10 * H),
                merged_at: monday + day * DAY + 8 * H,
                merge_sha: Some(sha.clone()),
                reverts: None,
            });
            h.deployments.push(Deployment {
                sha: sha.clone(),
                finished_at: monday + day * DAY + 10 * H,
                succeeded: true,
            });
            if !previous.is_empty() {
                h.pushes.insert(sha.clone(), previous.clone());
            }
            previous = sha;
        }
    }
    let mon = w48();
    let change = |number, first: i64, merged: i64, sha: &str, reverts| Change {
        number,
        first_commit_at: Some(first),
        merged_at: merged,
        merge_sha: Some(sha.into()),
        reverts,
    };
    h.changes.extend([
        change(1, mon + 8 * H, mon + 20 * H, "a48", None),
        change(2, mon + 8 * H, mon + DAY + 20 * H, "s2m", None),
        change(
            3,
            mon + 2 * DAY + 8 * H,
            mon + 2 * DAY + 22 * H,
            "d48",
            None,
        ),
        change(4, mon + 3 * DAY, mon + 4 * DAY + 10 * H, "r4", Some(3)),
    ]);
    if !previous.is_empty() {
        h.pushes.insert("a48".into(), previous);
    }
    for (sha, before) in [("s2m", "a48"), ("s2", "s2m"), ("b48", "s2"), ("d48", "b48")] {
        h.pushes.insert(sha.into(), before.into());
    }
    let deploy = |sha: &str, when: i64, succeeded| Deployment {
        sha: sha.into(),
        finished_at: when,
        succeeded,
    };
    h.deployments.extend([
        deploy("a48", mon + DAY + 10 * H, true),
        deploy("b48", mon + 2 * DAY + 10 * H, true),
        deploy("c48", mon + 3 * DAY + 9 * H, false),
        deploy("d48", mon + 3 * DAY + 11 * H, true),
    ]);
    h.incidents.push(Incident {
        number: Some(50),
        opened_at: mon + 2 * DAY + 12 * H,
        closed_at: Some(mon + 2 * DAY + 16 * H),
        root_cause: Some("s2".into()),
    });
    h
}

fn weeks_of(history: &History) -> Vec<dora::WeekMetrics> {
    let mut week = Week::named("2026-W48", Zone::UTC).unwrap();
    let mut weeks = Vec::new();
    for _ in 0..8 {
        weeks.push(dora::week_metrics(history, &week, Source::Deployments));
        week = week.previous(Zone::UTC);
    }
    weeks.reverse();
    weeks
}

fn merged(number: u64, items: &[&str], debt: &str, dod: &str) -> MergedChange {
    let mon = w48();
    MergedChange {
        number,
        title: Some(format!("Change {number}")),
        roadmap_items: items.iter().map(|i| (*i).to_owned()).collect(),
        debt: Some(debt.into()),
        dod: Some(dod.into()),
        changed_lines: Some(40),
        failed_criteria: if dod == "failure" {
            vec![
                FailedCriterion {
                    title: "Patch coverage".into(),
                    why: Some("untested checkout code caused two incidents in Q3".into()),
                },
                FailedCriterion {
                    title: "Linked issue".into(),
                    why: None,
                },
            ]
        } else {
            vec![]
        },
        times: CycleTimes {
            first_commit: Some(mon + 8 * H),
            opened: Some(mon + 10 * H),
            first_review: Some(mon + 10 * H + (number as i64) * 2 * H),
            merged: Some(mon + 20 * H + (number as i64) * H),
            deployed: Some(mon + DAY + 10 * H + (number as i64) * H),
        },
        by_bot: number == 4,
    }
}

fn report(history: &History, merged: Vec<MergedChange>) -> WeeklyReport {
    let config = crate::Config::parse("keel.toml", CONFIG).unwrap();
    let waiver = |number, criterion: &str, until: (i32, u32, u32), ended| WaiverGiven {
        number,
        criterion: criterion.into(),
        by: "lead".into(),
        reason: "ship for the *launch*, tests follow in R-12".into(),
        until: Some(Day(chrono::NaiveDate::from_ymd_opt(
            until.0, until.1, until.2,
        )
        .unwrap())),
        ended,
    };
    WeeklyReport {
        repo: "acme/shop".into(),
        weeks: weeks_of(history),
        source: Source::Deployments,
        merged,
        roadmap: config.roadmap.unwrap().items,
        debt: config.debt,
        health: vec![
            Health {
                week: "2026-W47".into(),
                coverage: Some(81.2),
                findings: Some(4),
                benchmarks: vec![],
            },
            Health {
                week: "2026-W48".into(),
                coverage: Some(78.5),
                findings: Some(3),
                benchmarks: vec![],
            },
        ],
        outcomes: [(
            "R-12".to_owned(),
            Outcome {
                value: -11.5,
                measured_at: Some(at("2026-11-27T09:00:00Z")),
            },
        )]
        .into_iter()
        .collect(),
        waivers: vec![
            waiver(3, "coverage.patch", (2026, 12, 4), false),
            waiver(4, "security.new_findings", (2027, 1, 15), true),
        ],
        waivers_in_force: vec![
            waiver(2, "hygiene.size", (2026, 12, 1), false),
            waiver(3, "coverage.patch", (2026, 12, 4), false),
        ],
        roadmap_last_merged: [
            ("R-12".to_owned(), w48() + DAY),
            ("R-3".to_owned(), at("2026-10-20T10:00:00Z")),
        ]
        .into_iter()
        .collect(),
        register_cost_before: Some(1_200.0),
        coverage_target: Some(80.0),
    }
}

fn busy() -> WeeklyReport {
    report(
        &busy_history(0),
        vec![
            merged(1, &["R-12"], "neutral", "success"),
            merged(2, &["R-12"], "added", "success"),
            merged(3, &[], "reduced", "failure"),
            merged(4, &[], "neutral", "success"),
        ],
    )
}

/// The same history without W48's events: Keel was watching, nothing merged or deployed.
fn empty() -> WeeklyReport {
    let mut history = busy_history(0);
    history.changes.retain(|c| c.merged_at < w48());
    history.deployments.retain(|d| d.finished_at < w48());
    history.incidents.clear();
    let mut r = report(&history, vec![]);
    r.waivers.clear();
    r.waivers_in_force.clear();
    r.health.truncate(1);
    r
}

/// Keel installed in W46: the weeks before have no data; nothing measured yet, no currency,
/// no first reviews recorded.
fn missing_data() -> WeeklyReport {
    let mut r = report(
        &busy_history(5),
        vec![merged(1, &["R-12"], "neutral", "success"), {
            let mut m = merged(3, &[], "reduced", "failure");
            m.times.first_review = None;
            m
        }],
    );
    r.outcomes.clear();
    r.register_cost_before = None;
    r.waivers_in_force.clear();
    r.roadmap_last_merged.remove("R-3");
    if let Some(debt) = r.debt.as_mut() {
        debt.currency = None;
    }
    r.health = vec![];
    r
}

#[test]
fn the_busy_week_reads_right_at_a_glance() {
    let b = body(&busy());
    // Dates, not only the ISO week.
    assert!(
        b.starts_with("### acme/shop · 23–29 Nov 2026 (2026-W48)\n"),
        "{b}"
    );
    // Needs attention comes first, each item with its link.
    let attention = b.find("#### Needs attention").unwrap();
    assert!(attention < b.find("#### Delivery (DORA)").unwrap());
    for line in [
        "- Change failure rate 75%: low performer (3 failed deployments this week) ([details](#what-failed)).",
        "- Lead time got worse: 27.0 h this week against 20.0 h on average in the weeks before ([details](#delivery-dora)).",
        "- Coverage of the default branch 78.5%, below the team's target of 80% ([details](#definition-of-done)).",
        "- The waiver of `coverage.patch` on acme/shop#3 ends Fri 4 Dec: the criterion fails again unless the work is done (acme/shop#3).",
        "- Roadmap item **R\\-3** Faster search is active with nothing merged since 20 Oct (#41).",
    ] {
        assert!(b.contains(line), "missing {line:?} in\n{b}");
    }
    // Performer words with a marker that is not colour.
    assert!(
        b.contains("| Change failure rate | 75% | 0% | ↑ worse | ●○○○ low performer |"),
        "{b}"
    );
    assert!(
        b.contains("| Lead time for changes | 27.0 h | 20.0 h | ↑ worse | ●●●○ high performer |"),
        "{b}"
    );
    assert_eq!(
        b.matches("Change failure rate got worse").count(),
        0,
        "said once, as low"
    );
    // What failed, linked.
    assert!(
        b.contains("incident #50 names a commit it shipped as the root cause"),
        "{b}"
    );
    assert!(b.contains("its status was a failure"), "{b}");
    assert!(b.contains("#4 reverts #3, which it shipped"), "{b}");
    // Outcomes in plain words with the measurement's date.
    assert!(
        b.contains("cart abandonment −11.5% so far, target −15%: not yet (measured 27 Nov 2026)"),
        "{b}"
    );
    // Money with its currency, risks with their period, the register's trend.
    assert!(b.contains("costs 1,200 EUR a month"), "{b}");
    assert!(b.contains("5% risk of an outage this quarter"), "{b}");
    assert!(
        b.contains("cost **1,500 EUR** a month in total, up 300 EUR since last week"),
        "{b}"
    );
    // The why of the most often failing criteria.
    assert!(
        b.contains(
            "Patch coverage (1) — why it matters: untested checkout code caused two incidents in Q3"
        ),
        "{b}"
    );
    // The investment balance and the cycle time.
    assert!(b.contains("Of 4 merged pull requests: roadmap features **2** (50%) · debt paid down **1** (25%) · upkeep by bots **1** (25%) · unlinked **0** (0%)."), "{b}");
    assert!(
        b.contains("| Opened → first review | 5.0 h | 4 of 4 |"),
        "{b}"
    );
    // One unit per axis.
    assert!(b.contains("y-axis \"count\"\n    bar"), "{b}");
    assert!(b.contains("y-axis \"hours\"\n    line"), "{b}");
    insta::assert_snapshot!("weekly_busy", b);
}

#[test]
fn an_empty_week_says_no_merged_pull_requests() {
    let b = body(&empty());
    assert!(b.contains("**0** deployments"), "{b}");
    assert!(b.contains("**no** merged pull requests"), "{b}");
    assert!(
        b.contains("No merged pull requests this week, so no debt capacity to report."),
        "{b}"
    );
    assert!(!b.contains("No debt work this week"), "{b}");
    assert!(
        !b.contains("Every merged pull request served a roadmap item"),
        "{b}"
    );
    assert!(!b.contains("debt capacity 0%"), "{b}");
    assert!(!b.contains("#### Cycle time"), "{b}");
    // An empty week is a real zero in the table, not a gap.
    assert!(
        b.contains("| W48 | 23–29 Nov 2026 | 0 | — | — | — |"),
        "{b}"
    );
    insta::assert_snapshot!("weekly_empty", b);
}

#[test]
fn weeks_without_data_are_gaps_never_zeros() {
    let b = body(&missing_data());
    assert!(
        b.contains("| W41 | 5–11 Oct 2026 | no data | no data | no data | no data |"),
        "{b}"
    );
    // The charts leave the weeks out and say so.
    assert!(b.contains("x-axis [\"W46\", \"W47\", \"W48\"]"), "{b}");
    assert!(
        b.contains("Left out of this chart, Keel had recorded nothing yet (no data, not a zero): W41, W42, W43, W44, W45."),
        "{b}"
    );
    assert!(!b.contains("bar [0, 0"), "{b}");
    // Nothing measured yet; money without a currency says so.
    assert!(b.contains("not measured yet (target 15%)"), "{b}");
    assert!(b.contains("(currency not set)"), "{b}");
    // A missing review time is counted as missing, not as zero.
    assert!(
        b.contains("| Opened → first review | 2.0 h | 1 of 2 |"),
        "{b}"
    );
    // An item that never had a merged pull request is not called stale: Keel cannot tell
    // how long it has been planned.
    assert!(!b.contains("**R\\-3** Faster search is active"), "{b}");
    insta::assert_snapshot!("weekly_missing_data", b);
}

#[test]
fn a_week_before_anything_was_recorded_says_so() {
    let mut r = missing_data();
    let mut h = busy_history(5);
    h.changes.clear();
    h.deployments.clear();
    h.incidents.clear();
    r.weeks = weeks_of(&h);
    let b = body(&r);
    assert!(
        b.contains("Keel had recorded nothing by the end of this week"),
        "{b}"
    );
    assert!(!b.contains("#### Delivery (DORA)"), "{b}");
}

#[test]
fn dates_cross_months_and_years() {
    assert_eq!(dates("2026-W48"), "23–29 Nov 2026 (2026-W48)");
    assert_eq!(dates("2026-W49"), "30 Nov – 6 Dec 2026 (2026-W49)");
    assert_eq!(dates("2026-W53"), "28 Dec 2026 – 3 Jan 2027 (2026-W53)");
    assert_eq!(dates("not a week"), "not a week");
}

#[test]
fn outcomes_are_judged_in_the_direction_of_their_hypothesis() {
    use crate::config::RoadmapItem;
    let item = |target: &str, hypothesis: &str| -> RoadmapItem {
        let text = format!(
            "[[roadmap.items]]\nid = \"R-1\"\ntitle = \"t\"\nmetric = \"m\"\ntarget = \"{target}\"\nhypothesis = \"{hypothesis}\"\n"
        );
        crate::Config::parse("keel.toml", &text)
            .unwrap()
            .roadmap
            .unwrap()
            .items
            .remove(0)
    };
    let cases = [
        (
            "15%",
            "We believe X will reduce m by 15%",
            -16.0,
            "m −16% so far, target −15%: reached",
        ),
        // It went up: shown as it is, never as progress.
        (
            "15%",
            "We believe X will reduce m by 15%",
            16.0,
            "m +16% so far, target −15%: not yet",
        ),
        // "serverless" is not "less": the direction comes from whole words.
        (
            "20%",
            "We believe serverless checkout will raise m by 20%",
            25.0,
            "m +25% so far, target +20%: reached",
        ),
        (
            "15%",
            "We believe X will reduce m by 15%",
            -11.5,
            "m −11.5% so far, target −15%: not yet",
        ),
        (
            "-15%",
            "We believe X will lower m by 15%",
            -15.0,
            "m −15% so far, target −15%: reached",
        ),
        (
            "3",
            "We believe X will unlock 3 deals",
            2.0,
            "m +2 so far, target +3: not yet",
        ),
        (
            "< 2 s",
            "We believe X will cut m to under 2 s",
            1.8,
            "m 1.8 so far, target \\< 2 s: reached",
        ),
    ];
    for (target, hypothesis, value, expected) in cases {
        let got = super::work::outcome_words(
            &item(target, hypothesis),
            Some(&Outcome {
                value,
                measured_at: None,
            }),
        );
        assert_eq!(
            got,
            format!("{expected} (from the outcomes file)"),
            "{target} {value}"
        );
    }
}

#[test]
fn the_rollup_puts_repositories_that_need_attention_first() {
    let mut search = empty();
    search.repo = "acme/search".into();
    let mut new = missing_data();
    new.repo = "acme/new-app".into();
    let rows = vec![
        rollup::row(&search, Some("search".into()), Some(7), false, false),
        rollup::row(&busy(), Some("payments".into()), Some(41), false, false),
        rollup::row(&new, None, None, false, false),
    ];
    let b = rollup::body("acme", "2026-W48", &rows, 0);
    assert_eq!(
        rollup::title("acme", "2026-W48"),
        "Keel organisation summary · acme · 23–29 Nov 2026 (2026-W48)"
    );
    let first = b.find("- acme/shop#41: Change failure rate 75%").unwrap();
    assert!(first < b.find("#### Repositories").unwrap(), "{b}");
    assert!(b.contains("| payments | acme/shop#41 | "), "{b}");
    assert!(b.contains("●○○○ low"), "{b}");
    assert!(b.contains("25% vs 20%"), "{b}");
    assert!(b.contains("| no team named | acme/new\\-app |"), "{b}");
    insta::assert_snapshot!("rollup", b);
}

#[test]
fn the_rollup_of_a_quiet_week_and_of_a_week_without_data() {
    // A quiet week everywhere: zeros where Keel watched, nothing invented.
    let mut web = empty();
    web.repo = "acme/web".into();
    let rows = vec![
        rollup::row(&empty(), Some("payments".into()), Some(41), false, false),
        rollup::row(&web, Some("web".into()), Some(9), false, false),
    ];
    let quiet = rollup::body("acme", "2026-W48", &rows, 0);
    assert!(
        quiet.contains("| payments | acme/shop#41 | 1.5 ●●●○ high | — | — | — | no merges | — |"),
        "{quiet}"
    );
    assert!(
        quiet.contains("**0** merged pull requests in all"),
        "{quiet}"
    );
    insta::assert_snapshot!("rollup_quiet", quiet);

    // Keel installed on a repository after the week: no data, never zeros; private
    // repositories left out of a public roll-up, and said so.
    let mut history = busy_history(5);
    history.changes.clear();
    history.deployments.clear();
    history.incidents.clear();
    let mut fresh = missing_data();
    fresh.repo = "acme/fresh".into();
    fresh.weeks = weeks_of(&history);
    fresh.merged.clear();
    let rows = vec![
        rollup::row(&fresh, None, Some(3), false, false),
        rollup::row(
            &missing_data(),
            Some("payments".into()),
            Some(41),
            false,
            false,
        ),
    ];
    let missing = rollup::body("acme", "2026-W48", &rows, 2);
    assert!(
        missing.contains(
            "| no team named | acme/fresh#3 | no data | no data | no data | no data | — | — | — |"
        ),
        "{missing}"
    );
    assert!(
        missing.contains("_2 private repositories are left out"),
        "{missing}"
    );
    insta::assert_snapshot!("rollup_missing_data", missing);
}

#[test]
fn a_currency_is_a_code_or_a_symbol_and_nothing_else() {
    for ok in ["EUR", "€", "$"] {
        let text = format!("[debt]\ncurrency = \"{ok}\"\n");
        let config = crate::Config::parse("keel.toml", &text).unwrap();
        assert_eq!(config.debt.unwrap().currency.as_deref(), Some(ok));
    }
    // A mention, a link or markup never reaches a summary through the currency.
    for bad in ["@acme/everyone", "[x](https://evil)", "eur", "EURO", "<b>"] {
        let text = format!("[debt]\ncurrency = \"{bad}\"\n");
        let error = crate::Config::parse("keel.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("is not a currency") && error.contains("keel.toml:2"),
            "{bad}: {error}"
        );
    }
}
