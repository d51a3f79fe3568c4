use super::{DebtCall, MAX_COMMANDS, Parsed, Verb, parse};
use crate::config::Day;

fn cmd(verb: Verb) -> Parsed {
    Parsed::Command(verb)
}

#[test]
fn commands_run_only_where_the_author_wrote_them_as_their_own_words() {
    let recheck = || vec![cmd(Verb::Recheck)];
    let none: Vec<Parsed> = Vec::new();
    let table: &[(&str, Vec<Parsed>)] = &[
        ("/keel recheck", recheck()),
        ("  /keel recheck  ", recheck()),
        ("Thanks!\n/keel recheck", recheck()),
        ("/keel recheck\nplease", recheck()),
        ("/KEEL recheck", none.clone()),
        ("/keel RECHECK", recheck()),
        ("/keelrecheck", none.clone()),
        ("please /keel recheck", none.clone()),
        ("> /keel recheck", none.clone()),
        (
            "> quoted\n>\n> /keel waive coverage reason=\"x\"",
            none.clone(),
        ),
        ("```\n/keel recheck\n```", none.clone()),
        ("    /keel recheck", none.clone()),
        ("`/keel recheck`", none.clone()),
        ("`x` /keel recheck", none.clone()),
        ("<!-- /keel recheck -->", none.clone()),
        ("<!--\n/keel recheck\n-->", none.clone()),
        ("<div>\n/keel recheck\n</div>", none.clone()),
        ("<b>x</b> /keel recheck", none.clone()),
        ("[/keel recheck](https://example.com)", none.clone()),
        ("# /keel recheck", none.clone()),
        ("- /keel recheck", none.clone()),
        ("| a |\n|---|\n| /keel recheck |", none.clone()),
        ("/keel", vec![Parsed::Unknown(String::new())]),
        ("/keel merge", vec![Parsed::Unknown("merge".into())]),
        ("nothing to see", none.clone()),
    ];
    for (body, expected) in table {
        assert_eq!(&parse(body), expected, "{body:?}");
    }
}

#[test]
fn every_verb_and_its_arguments() {
    let day = Day::try_from("2027-01-31".to_owned()).unwrap();
    let table: &[(&str, Parsed)] = &[
        ("/keel help", cmd(Verb::Help)),
        (
            "/keel explain coverage.min_patch",
            cmd(Verb::Explain("coverage.min_patch".into())),
        ),
        (
            "/keel explain `coverage.min_patch`",
            cmd(Verb::Explain("coverage.min_patch".into())),
        ),
        ("/keel link R-12", cmd(Verb::Link("R-12".into()))),
        ("/keel link #34", cmd(Verb::Link("#34".into()))),
        ("/keel unlink R-12", cmd(Verb::Unlink("R-12".into()))),
        ("/keel debt reduced", cmd(Verb::Debt(DebtCall::Reduced))),
        ("/keel debt Added", cmd(Verb::Debt(DebtCall::Added))),
        ("/keel debt none", cmd(Verb::Debt(DebtCall::None))),
        (
            "/keel unwaive coverage.min_patch",
            cmd(Verb::Unwaive("coverage.min_patch".into())),
        ),
        (
            "/keel outcome R-12 2.9%",
            cmd(Verb::Outcome {
                item: "R-12".into(),
                value: "2.9%".into(),
            }),
        ),
        (
            "/keel waive coverage.min_patch reason=\"hotfix for the outage, tests in #88\"",
            cmd(Verb::Waive {
                criterion: "coverage.min_patch".into(),
                reason: "hotfix for the outage, tests in #88".into(),
                until: None,
            }),
        ),
        (
            "/keel waive security reason=“vendor fix pending” until=2027-01-31",
            cmd(Verb::Waive {
                criterion: "security".into(),
                reason: "vendor fix pending".into(),
                until: Some(day),
            }),
        ),
    ];
    for (body, expected) in table {
        assert_eq!(parse(body), vec![expected.clone()], "{body:?}");
    }
}

#[test]
fn arguments_that_do_not_fit_say_what_is_wrong() {
    let table: &[(&str, &str, &str)] = &[
        ("/keel explain", "explain", "name a criterion"),
        ("/keel explain a b", "explain", "name only one criterion"),
        ("/keel debt maybe", "debt", "`reduced`, `added` or `none`"),
        ("/keel waive", "waive", "name the criterion"),
        ("/keel waive coverage", "waive", "needs a reason"),
        ("/keel waive coverage reason=\"\"", "waive", "not `reason"),
        ("/keel waive reason=\"x\"", "waive", "criterion first"),
        (
            "/keel waive coverage reason=\"open quote",
            "waive",
            "not closed",
        ),
        (
            "/keel waive coverage reason=\"x\" until=tomorrow",
            "waive",
            "YYYY-MM-DD",
        ),
        (
            "/keel waive coverage reason=\"x\" by=me",
            "waive",
            "`by=me`",
        ),
        ("/keel outcome R-12", "outcome", "measured value"),
    ];
    for (body, verb, says) in table {
        match parse(body).as_slice() {
            [Parsed::Invalid { verb: v, why }] => {
                assert_eq!(v, verb, "{body:?}");
                assert!(why.contains(says), "{body:?}: {why}");
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
}

#[test]
fn several_commands_in_one_comment_in_order_and_bounded() {
    let body = "LGTM with a caveat.\n\n/keel link R-12\n/keel debt added\n\n> /keel recheck\n\n/keel recheck";
    assert_eq!(
        parse(body),
        [
            cmd(Verb::Link("R-12".into())),
            cmd(Verb::Debt(DebtCall::Added)),
            cmd(Verb::Recheck)
        ]
    );
    let many = "/keel recheck\n".repeat(MAX_COMMANDS + 5);
    assert_eq!(parse(&many).len(), MAX_COMMANDS);
    // A huge body is read up to the limit, on a character boundary.
    let huge = format!("/keel help\n{}", "é".repeat(super::MAX_BODY_BYTES));
    assert_eq!(parse(&huge), [cmd(Verb::Help)]);
}

#[test]
fn only_state_changing_verbs_need_more_than_read() {
    assert!(!Verb::Help.changes_state() && !Verb::Explain("x".into()).changes_state());
    assert!(Verb::Recheck.changes_state() && Verb::Unwaive("x".into()).changes_state());
}
