//! What a deployment ships and the two definitions built on it, on hand-computed histories:
//! several merges in one deployment, a merge landing while a deployment runs, a root cause in
//! the middle of a batch, a root cause never deployed, and a history too short to tell.

use super::*;
use crate::week::{Week, Zone};

const H: i64 = 3_600_000;
/// Monday 2026-11-23 00:00 UTC: the week under test starts here.
const MONDAY: i64 = 1_795_392_000_000;

fn week() -> Week {
    Week::containing(MONDAY + H, Zone::UTC)
}

fn change(number: u64, first_h: i64, merged_h: i64, sha: &str) -> Change {
    Change {
        number,
        first_commit_at: Some(MONDAY + first_h * H),
        merged_at: MONDAY + merged_h * H,
        merge_sha: Some(sha.into()),
        reverts: None,
    }
}

fn deployed(sha: &str, finished_h: i64) -> Deployment {
    Deployment {
        sha: sha.into(),
        finished_at: MONDAY + finished_h * H,
        succeeded: true,
    }
}

/// The default branch went base → m1 → m2 → m3, one push per merge.
fn pushes() -> std::collections::BTreeMap<String, String> {
    [("m1", "base"), ("m2", "m1"), ("m3", "m2")]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
}

#[test]
fn a_deployment_ships_the_heads_since_the_previous_one() {
    let p = pushes();
    assert_eq!(shipped_heads(&p, "m3", Some("m1")), Some(vec!["m3", "m2"]));
    assert_eq!(
        shipped_heads(&p, "m3", None),
        None,
        "no deployment before it to reach"
    );
    assert_eq!(
        shipped_heads(&p, "m3", Some("elsewhere")),
        None,
        "history does not reach it"
    );
}

#[test]
fn several_merges_in_one_deployment_each_count_to_that_deployment() {
    // Merged at 10, 20, 30 h (first commits at 0, 5, 10 h); m3 deployed at 40 h.
    let history = History {
        changes: vec![
            change(1, 0, 10, "m1"),
            change(2, 5, 20, "m2"),
            change(3, 10, 30, "m3"),
        ],
        deployments: vec![deployed("base", 1), deployed("m3", 40)],
        pushes: pushes(),
        ..History::default()
    };
    let m = week_metrics(&history, &week(), Source::Deployments);
    // Lead times 40, 35, 30 h: median 35.
    assert_eq!(m.lead_time_hours, Some(35.0));
    assert!(!m.lead_time_by_time);
}

#[test]
fn a_merge_while_a_deployment_runs_is_shipped_by_the_next_one() {
    // m1's deployment finishes at 25 h, after m2 merged at 20 h: it does not contain m2,
    // which ships with m2's own deployment at 50 h.
    let history = History {
        changes: vec![change(1, 0, 10, "m1"), change(2, 10, 20, "m2")],
        deployments: vec![deployed("base", 1), deployed("m1", 25), deployed("m2", 50)],
        pushes: pushes(),
        ..History::default()
    };
    let m = week_metrics(&history, &week(), Source::Deployments);
    // m1: 25 - 0 = 25 h; m2: 50 - 10 = 40 h (by time alone it would be 25 - 10 = 15 h).
    assert_eq!(m.lead_time_hours, Some(32.5));
}

#[test]
fn a_root_cause_in_the_middle_of_a_batch_fails_the_deployment_that_shipped_it() {
    let history = History {
        changes: vec![
            change(1, 0, 10, "m1"),
            change(2, 5, 20, "m2"),
            change(3, 10, 30, "m3"),
        ],
        deployments: vec![deployed("base", 1), deployed("m3", 40)],
        incidents: vec![
            Incident {
                number: None,
                opened_at: MONDAY + 45 * H,
                closed_at: Some(MONDAY + 47 * H),
                root_cause: Some("m2".into()),
            },
            Incident {
                number: None,
                opened_at: MONDAY + 46 * H,
                closed_at: None,
                root_cause: Some("never-deployed".into()),
            },
        ],
        pushes: pushes(),
        ..History::default()
    };
    let m = week_metrics(&history, &week(), Source::Deployments);
    // Two deployments in the week; the m3 one shipped m2: 1 of 2 failed.
    assert_eq!(m.change_failure_rate, Some(0.5));
    assert_eq!(m.unshipped_root_causes, ["never-deployed"]);
}

#[test]
fn without_the_push_history_changes_pair_by_time_and_say_so() {
    let history = History {
        changes: vec![change(1, 0, 10, "m1")],
        deployments: vec![deployed("base", 1), deployed("unknown", 30)],
        ..History::default()
    };
    let m = week_metrics(&history, &week(), Source::Deployments);
    assert_eq!(m.lead_time_hours, Some(30.0));
    assert!(m.lead_time_by_time);
}

proptest::proptest! {
    /// On a linear default branch of pushed heads h0 → h1 → … with deployments of some heads
    /// in order, each merged change is shipped by the first successful deployment whose
    /// commit is its head or a later one, never by an earlier one, whatever the times say.
    #[test]
    fn pairing_never_contradicts_the_commit_graph(
        heads in 2usize..30,
        deploys in proptest::collection::vec((0usize..30, proptest::bool::ANY, 0i64..200), 1..12),
        merge_times in proptest::collection::vec(0i64..200, 30),
    ) {
        let name = |i: usize| format!("h{i}");
        let pushes: std::collections::BTreeMap<String, String> =
            (1..heads).map(|i| (name(i), name(i - 1))).collect();
        // Deployments of heads in branch order, finishing at increasing times.
        let mut picked: Vec<(usize, bool, i64)> = deploys
            .into_iter()
            .map(|(h, ok, t)| (h % heads, ok, t))
            .collect();
        picked.sort_by_key(|d| d.0);
        let mut at = 0;
        let deployments: Vec<Deployment> = std::iter::once((0, true, 0))
            .chain(picked)
            .map(|(h, ok, gap)| {
                at += gap + 1;
                Deployment { sha: name(h), finished_at: MONDAY + at * H / 10, succeeded: ok }
            })
            .collect();
        let changes: Vec<Change> = (1..heads)
            .map(|i| Change {
                number: i as u64,
                first_commit_at: Some(MONDAY),
                merged_at: MONDAY + merge_times[i] * H / 10,
                merge_sha: Some(name(i)),
                reverts: None,
            })
            .collect();
        let history = History { changes, deployments, pushes, ..History::default() };
        let ships = shipments(&history, Source::Deployments);
        let sets = shipped_sets(&history, &ships);
        for c in &history.changes {
            let head: usize = c.merge_sha.as_ref().unwrap()[1..].parse().unwrap();
            let expected = ships
                .iter()
                .filter(|s| s.succeeded)
                .find(|s| s.sha.unwrap()[1..].parse::<usize>().unwrap() >= head)
                .map(|s| s.at);
            let got = shipped_at(c, &ships, &sets, Source::Deployments);
            match expected {
                Some(at) => proptest::prop_assert_eq!(got, Some((at, false)), "change {}", head),
                // Never deployed: only time (a deployment it cannot be in) could pair it.
                None => proptest::prop_assert!(got.is_none_or(|g| g.1), "change {} {:?}", head, got),
            }
        }
    }
}

#[test]
fn an_abbreviated_root_cause_names_the_commit_it_abbreviates() {
    let full = "9f2c4e81b7a0d3c5e6f708192a3b4c5d6e7f8091";
    let pushes: std::collections::BTreeMap<String, String> = [(full, "base"), ("m3", full)]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let incident = |cause: &str| Incident {
        number: Some(7),
        opened_at: MONDAY + 45 * H,
        closed_at: Some(MONDAY + 47 * H),
        root_cause: Some(cause.into()),
    };
    for (cause, failed) in [("9f2c4e8", true), ("9F2C4E81B7", true), ("9f2c4e", false)] {
        let history = History {
            changes: vec![change(1, 0, 10, full)],
            deployments: vec![deployed("base", 1), deployed("m3", 40)],
            incidents: vec![incident(cause)],
            pushes: pushes.clone(),
            ..History::default()
        };
        let m = week_metrics(&history, &week(), Source::Deployments);
        // Six hex digits are too few to name a commit: never shipped, said so.
        assert_eq!(m.failures.len(), usize::from(failed), "{cause}");
        assert_eq!(m.unshipped_root_causes.is_empty(), failed, "{cause}");
        if failed {
            assert_eq!(
                m.failures[0].cause,
                Cause::Incident {
                    number: Some(7),
                    by_root_cause: true
                }
            );
        }
    }
}
