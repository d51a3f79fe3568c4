use super::*;
use crate::report::coverage::{LineStatus, Ratio};
use proptest::prelude::*;
use std::io::BufReader;

fn parse(text: &str) -> Result<CoverageReport, ReportError> {
    parse_cobertura("coverage.xml", text.as_bytes(), &Limits::DEFAULT)
}

#[test]
fn coverage_py_totals_equal_its_line_and_branch_rate() {
    // coverage.xml root: line-rate 0.8438 (27/32), branch-rate 0.6667 (12/18).
    let r = parse(include_str!(
        "../../../../../tests/fixtures/covdemo/coverage.xml"
    ))
    .unwrap();
    let t = r.totals();
    assert_eq!(t.lines, Ratio::new(27, 32));
    assert_eq!(t.branches, Some(Ratio::new(12, 18)));
    assert_eq!(r.sources, vec!["/tmp/oracles/covdemo".to_owned()]);
    let gate = r.file("pkg/gate.py").unwrap();
    assert_eq!(gate.line(22), LineStatus::Missed);
    assert_eq!(gate.line(5), LineStatus::Partial);
}

#[test]
fn gcovr_totals_equal_its_summary_and_lcov_on_the_same_run() {
    // gcovr 8.8 on the gcc run of tests/fixtures/lcov: 9 of 11 lines, 6 of 8 branches
    // (the same numbers `lcov --summary` gives for gcc-classic.info); <line> elements carry
    // <conditions> children here.
    let r = parse(include_str!(
        "../../../../../tests/fixtures/cobertura/gcovr.xml"
    ))
    .unwrap();
    assert_eq!(r.totals().lines, Ratio::new(9, 11));
    assert_eq!(r.totals().branches, Some(Ratio::new(6, 8)));
    assert!(
        include_str!("../../../../../tests/fixtures/cobertura/gcovr.summary.txt")
            .contains("TOTAL                                           11        9    81%")
    );
}

#[test]
fn istanbul_nyc_cobertura_lines_match_its_summary() {
    let r = parse(include_str!(
        "../../../../../tests/fixtures/nyc/cobertura-coverage.xml"
    ))
    .unwrap();
    assert_eq!(r.totals().lines, Ratio::new(5, 8));
}

#[test]
fn lines_under_methods_are_not_counted_twice_and_classes_of_one_file_merge() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5"><sources><source>/ci/app/src</source></sources><packages><package name="p"><classes>
<class name="A" filename="a/A.java"><methods><method name="m"><lines><line number="3" hits="1"/></lines></method></methods>
<lines><line number="3" hits="1"/><line number="4" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines></class>
<class name="A$Inner" filename="a/A.java"><lines><line number="9" hits="2"/></lines></class>
</classes></package></packages></coverage>"#;
    let r = parse(xml).unwrap();
    assert_eq!(r.files().len(), 1);
    assert_eq!(r.totals().lines, Ratio::new(2, 3));
    assert_eq!(r.totals().branches, Some(Ratio::new(1, 2)));
}

#[test]
fn entities_are_never_expanded() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<coverage><sources><source>&lol2;</source></sources><packages/></coverage>"#;
    let r = parse(laughs).unwrap();
    assert!(
        r.sources.is_empty(),
        "custom entities resolve to nothing: {:?}",
        r.sources
    );
}

#[test]
fn malformed_xml_and_wrong_roots_are_clear_errors() {
    let err = parse("<coverage><packages></coverage>").unwrap_err();
    assert!(
        err.to_string().starts_with("not a valid Cobertura report"),
        "{err}"
    );
    let err = parse("<html></html>").unwrap_err();
    assert!(err.to_string().contains("no <coverage> root"), "{err}");
}

#[test]
fn bad_line_elements_are_noted_and_skipped() {
    let r = parse(r#"<coverage><packages><package><classes><class filename="x.py"><lines><line number="a" hits="1"/><line number="2" hits="3"/></lines></class></classes></package></packages></coverage>"#).unwrap();
    assert_eq!(r.totals().lines, Ratio::new(1, 1));
    assert_eq!(r.diagnostics.len(), 1);
}

#[test]
fn reports_over_the_size_limit_are_refused() {
    let limits = Limits {
        coverage_bytes: 20,
        ..Limits::DEFAULT
    };
    let err = parse_cobertura(
        "x",
        &include_bytes!("../../../../../tests/fixtures/covdemo/coverage.xml")[..],
        &limits,
    )
    .unwrap_err();
    assert!(matches!(err, ReportError::TooLarge { .. }), "{err}");
}

#[test]
fn raw_attributes_read_both_quotes_and_stop_at_garbage() {
    let got: Vec<_> =
        raw_attributes(r#" number="3"  hits = '2' condition-coverage="50% (1/2)" x"#).collect();
    assert_eq!(
        got,
        vec![
            ("number", "3"),
            ("hits", "2"),
            ("condition-coverage", "50% (1/2)")
        ]
    );
    assert_eq!(raw_attributes(r#"a="1" b=2 c="3""#).count(), 1);
}

#[test]
fn diagnostics_point_at_the_offending_element() {
    let xml = "<?xml version=\"1.0\"?>\n<coverage>\n<packages><package name=\"é\"><classes>\n  <class name=\"A\">\n  </class>\n  <class filename=\"ü.py\"><lines>\n    <line number=\"1\" hits=\"1\"/> <line number=\"a\"\n hits=\"1\"/>\n    <line number=\"0\" hits=\"1\"/>\n</lines></class></classes></package></packages></coverage>";
    let r = parse(xml).unwrap();
    let at: Vec<(u32, u32, &str)> = r
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            (4, 3, "<class> without a filename skipped"),
            (7, 33, "<line> without a valid number or hits skipped"),
            (9, 5, "<line number=\"0\"> out of range"),
        ]
    );
    let bytewise = parse_cobertura(
        "coverage.xml",
        BufReader::with_capacity(1, xml.as_bytes()),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert_eq!(
        bytewise.diagnostics, r.diagnostics,
        "buffer boundaries do not move positions"
    );
}

#[test]
fn malformed_xml_errors_give_line_and_column() {
    let err = parse("<coverage>\n  <packages>\n  </wrong>\n</coverage>")
        .unwrap_err()
        .to_string();
    assert!(err.contains("at line 3, column"), "{err}");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let xml = "<coverage><packages><package><classes><class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\"/><line number=\"x\" hits=\"1\"/></lines></class></classes></package></packages></coverage>";
    let plain = parse(xml).unwrap();
    let with_bom = parse(&format!("\u{feff}{xml}")).unwrap();
    assert_eq!(with_bom, plain);
    assert_eq!(
        (plain.diagnostics[0].line, plain.diagnostics[0].column),
        (1, 96)
    );
}

proptest! {
    #[test]
    fn raw_attributes_never_panic(s in ".{0,60}") {
        let _ = raw_attributes(&s).count();
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = parse_cobertura("fuzz", &bytes[..], &Limits::DEFAULT);
    }

    #[test]
    fn never_panics_on_cobertura_like_text(parts in proptest::collection::vec(prop_oneof![
        Just("<coverage>"), Just("</coverage>"), Just("<class filename=\"a\">"), Just("</class>"),
        Just("<lines>"), Just("</lines>"), Just("<line number=\"3\" hits=\"1\"/>"), Just("<methods>"), Just("</methods>"),
        Just("<line number=\"99999999999\" hits=\"-1\" condition-coverage=\"x (5/0)\"/>"), Just("<source>"), Just("</source>"),
    ], 0..40)) {
        let _ = parse(&parts.concat());
    }
}
