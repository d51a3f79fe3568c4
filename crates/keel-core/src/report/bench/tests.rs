use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> (BenchFormat, Vec<Measurement>) {
    parse_bench("group/fn", text.as_bytes(), &Limits::DEFAULT).unwrap()
}

#[test]
fn hyperfine_means_become_nanoseconds_with_an_interval() {
    let (format, ms) = parse(include_str!(
        "../../../../../tests/fixtures/bench/hyperfine.json"
    ));
    assert_eq!(format, BenchFormat::Hyperfine);
    assert_eq!(
        ms.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["sleep 0.01", "sleep 0.02"]
    );
    let m = &ms[0];
    assert!(m.value > 1e7 && m.value < 2e7, "{}", m.value);
    let i = m.interval.unwrap();
    assert!(i.lower < m.value && m.value < i.upper);
}

#[test]
fn google_benchmark_aggregates_give_mean_and_interval() {
    let (format, ms) = parse(include_str!(
        "../../../../../tests/fixtures/bench/google-aggregates.json"
    ));
    assert_eq!(format, BenchFormat::Google);
    let names: Vec<&str> = ms.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["sum_list", "join_str"]);
    let raw: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../../tests/fixtures/bench/google-aggregates.json"
    ))
    .unwrap();
    let mean = raw["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "sum_list_mean")
        .unwrap()["real_time"]
        .as_f64()
        .unwrap();
    assert_eq!(ms[0].value, mean);
    assert!(ms[0].interval.is_some());
}

#[test]
fn google_benchmark_without_repetitions_has_no_interval() {
    let (_, ms) = parse(include_str!(
        "../../../../../tests/fixtures/bench/google-plain.json"
    ));
    assert_eq!(ms.len(), 2);
    assert!(ms.iter().all(|m| m.interval.is_none() && m.value > 0.0));
}

#[test]
fn criterion_estimates_prefer_the_slope_and_take_the_name_given() {
    let with_slope = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":90.0,"upper_bound":110.0},"point_estimate":100.0,"standard_error":5.0},
      "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1,"upper_bound":2},"point_estimate":1.5,"standard_error":0.1},
      "slope":{"confidence_interval":{"confidence_level":0.95,"lower_bound":95.0,"upper_bound":99.0},"point_estimate":97.0,"standard_error":1.0}}"#;
    let (format, ms) = parse(with_slope);
    assert_eq!(format, BenchFormat::Criterion);
    assert_eq!((ms[0].name.as_str(), ms[0].value), ("group/fn", 97.0));
    assert_eq!(
        ms[0].interval,
        Some(Interval {
            lower: 95.0,
            upper: 99.0
        })
    );
    let flat = with_slope.replace("\"slope\":{", "\"slope\":null,\"x\":{");
    assert_eq!(parse(&flat).1[0].value, 100.0);
}

#[test]
fn real_criterion_output_uses_the_slope_in_linear_mode_and_the_mean_in_flat_mode() {
    let linear = include_str!(
        "../../../../../tests/fixtures/bench/criterion/evaluate/coverage_8000-files+50k-added-lines/new/estimates.json"
    );
    let flat = include_str!(
        "../../../../../tests/fixtures/bench/criterion/parse/sarif_49MB/new/estimates.json"
    );
    for (text, key) in [(linear, "slope"), (flat, "mean")] {
        let raw: serde_json::Value = serde_json::from_str(text).unwrap();
        let (format, ms) = parse(text);
        assert_eq!(format, BenchFormat::Criterion);
        assert_eq!(
            ms[0].value,
            raw[key]["point_estimate"].as_f64().unwrap(),
            "{key}"
        );
        let ci = &raw[key]["confidence_interval"];
        assert_eq!(
            ms[0].interval.unwrap().lower,
            ci["lower_bound"].as_f64().unwrap()
        );
    }
}

#[test]
fn keel_json_units_normalise() {
    let (format, ms) = parse(
        r#"[{"name":"startup","value":1.5,"unit":"ms","lower":1.4,"upper":1.6},{"name":"binary","value":2,"unit":"MB"},{"name":"n","value":7}]"#,
    );
    assert_eq!(format, BenchFormat::Keel);
    assert_eq!(ms[0].value, 1.5e6);
    assert_eq!(
        ms[0].interval,
        Some(Interval {
            lower: 1.4e6,
            upper: 1.6e6
        })
    );
    assert_eq!((ms[1].value, ms[1].dimension), (2e6, Dimension::Bytes));
    assert_eq!(ms[2].dimension, Dimension::Plain);
    let err = parse_bench(
        "x",
        &br#"[{"name":"a","value":1,"unit":"furlongs"}]"#[..],
        &Limits::DEFAULT,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown unit `furlongs`"));
}

#[test]
fn unknown_shapes_are_clear_errors() {
    let err = parse_bench("x", &b"{\"foo\": 1}"[..], &Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("unrecognised format"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1000)) {
        let _ = parse_bench("fuzz", &bytes[..], &Limits::DEFAULT);
    }
}

#[test]
fn a_criterion_id_comes_from_benchmark_json_or_the_directories() {
    let json = br#"{"group_id":"parse","function_id":"lcov","full_id":"parse/lcov/100MB"}"#;
    assert_eq!(
        criterion_id("target/criterion/parse/lcov/new/estimates.json", Some(json)),
        "parse/lcov/100MB"
    );
    assert_eq!(
        criterion_id(
            "target/criterion/parse/lcov/new/estimates.json",
            Some(b"not json")
        ),
        "parse/lcov"
    );
    assert_eq!(criterion_id("criterion/x/new/estimates.json", None), "x");
    assert_eq!(criterion_id("estimates.json", None), "estimates.json");
}
