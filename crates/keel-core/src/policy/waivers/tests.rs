//! Waivers against rows: the judged commit, an earlier one, ended ones, rows never waived,
//! by id or title, and the debt they add.

use super::super::tests::config;
use crate::config::Day;
use crate::evaluation::Status;
use crate::evaluation::debt::Direction;
use crate::facts::{Decision, DecisionKind, Facts};
use crate::policy::evaluate;
use crate::report::lcov::parse_lcov;

const HEAD: &str = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const EARLIER: &str = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn day(s: &str) -> Day {
    Day(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn waiver(criterion: &str, commit: &str, until: Option<&str>) -> Decision {
    Decision {
        kind: DecisionKind::Waive {
            criterion: criterion.into(),
            reason: "ship for the <b>launch</b>".into(),
            until: until.map(day),
        },
        by: "lead".into(),
        commit: commit.into(),
        current: commit == HEAD,
    }
}

/// Total coverage 50% (1 of 2 lines) against `min_total = 80`: a failing required row.
fn facts(decisions: Vec<Decision>) -> Facts {
    let lcov = "SF:a.py\nDA:1,1\nDA:2,0\nend_of_record\n";
    Facts {
        coverage: Some(
            parse_lcov(
                "lcov.info",
                lcov.as_bytes(),
                &crate::limits::Limits::DEFAULT,
            )
            .unwrap(),
        ),
        today: Some(day("2026-12-02").0),
        decisions,
        ..Facts::default()
    }
}

const TOML: &str = "[coverage]\nmin_total = 80\n[debt]\n";

#[test]
fn a_waiver_holds_only_for_its_commit_and_until_its_end() {
    // (waiver, survive pushes, status, lapsed contains)
    let table: Vec<(Option<Decision>, bool, Status, Option<&str>)> = vec![
        (None, false, Status::Fail, None),
        (
            Some(waiver("coverage.total", HEAD, None)),
            false,
            Status::Waived,
            None,
        ),
        (
            Some(waiver("coverage.total", HEAD, Some("2026-12-02"))),
            false,
            Status::Waived,
            None,
        ),
        // Applied by the exact id recorded: a title or another case names nothing.
        (
            Some(waiver("Total coverage", HEAD, None)),
            false,
            Status::Fail,
            None,
        ),
        (
            Some(waiver("coverage.total", HEAD, Some("2026-12-01"))),
            false,
            Status::Fail,
            Some("ended on 2026-12-01"),
        ),
        (
            Some(waiver("coverage.total", EARLIER, None)),
            false,
            Status::Fail,
            Some("given for an earlier commit `2222222`"),
        ),
        (
            Some(waiver("coverage.total", EARLIER, None)),
            true,
            Status::Waived,
            None,
        ),
    ];
    for (decision, survive, status, lapsed) in table {
        let toml = if survive {
            format!("{TOML}[commands]\nsurvive_pushes = true\n")
        } else {
            TOML.to_owned()
        };
        let ev = evaluate(
            &config(&toml),
            &facts(decision.clone().into_iter().collect()),
        );
        let row = super::super::tests::row(&ev, "coverage.total");
        assert_eq!(row.status, status, "{decision:?}");
        assert_eq!(
            row.waiver
                .as_ref()
                .and_then(|w| w.lapsed.as_deref())
                .map(|l| l.split(';').next().unwrap()),
            lapsed,
            "{decision:?}"
        );
        let passes = status == Status::Waived;
        assert_eq!(
            ev.conclusion == crate::evaluation::Conclusion::Success,
            passes
        );
        let debt = ev.debt.as_ref().unwrap();
        assert_eq!(debt.direction == Direction::Added, passes, "{debt:?}");
    }
}

#[test]
fn a_waiver_shows_who_why_and_until_when_escaped() {
    let ev = evaluate(
        &config(TOML),
        &facts(vec![waiver("coverage.total", HEAD, Some("2026-12-31"))]),
    );
    let md = crate::render::markdown::summary(&ev, &Default::default()).replace('\u{200b}', "");
    assert!(md.contains("Definition of done met with 1 waiver"), "{md}");
    assert!(
        md.contains("waived by @lead for `1111111` until 2026-12-31"),
        "{md}"
    );
    assert!(!md.contains("<b>launch"), "the reason is escaped: {md}");
    assert!(md.contains("1 is waived"), "{md}");
}

#[test]
fn integrity_rows_are_never_waived_and_a_waiver_of_nothing_says_so() {
    let mut f = facts(vec![
        waiver("config.change", HEAD, None),
        waiver("coverage.patch", HEAD, None),
    ]);
    f.config_change = Some(crate::facts::ConfigChange::Invalid(
        crate::diagnostic::Diagnostic::at_line(".github/keel.toml", 1, "bad"),
    ));
    let ev = evaluate(&config(TOML), &f);
    let row = super::super::tests::row(&ev, "config.change");
    assert_eq!(row.status, Status::Fail);
    assert_eq!(
        row.waiver.as_ref().and_then(|w| w.lapsed.as_deref()),
        Some("this criterion is never waived")
    );
    assert!(
        ev.notes
            .iter()
            .any(|n| n.contains("`coverage.patch` by @lead names no failing criterion")),
        "{:?}",
        ev.notes
    );
}
