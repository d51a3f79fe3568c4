use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> (BenchFormat, Vec<Measurement>) {
    let r = parse_bench("group/fn", text.as_bytes(), &Limits::DEFAULT).unwrap();
    (r.format, r.measurements)
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

/// Google Benchmark 1.9 with `->Complexity()`: two sizes, then the fitted `_BigO` and `_RMS`
/// entries, which have coefficients instead of times (and `_RMS` no `time_unit`).
const GOOGLE_COMPLEXITY: &str = r#"{
  "context": {"date": "2026-11-24T22:50:12+00:00", "library_version": "1.9.5", "json_schema_version": 1},
  "benchmarks": [
    {"name": "BM_StringCompare/1024", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "BM_StringCompare/1024", "run_type": "iteration", "repetitions": 1,
     "repetition_index": 0, "threads": 1, "iterations": 2961421,
     "real_time": 2.3660876993004473e+02, "cpu_time": 2.3655785006118640e+02, "time_unit": "ns"},
    {"name": "BM_StringCompare/4096", "family_index": 0, "per_family_instance_index": 1,
     "run_name": "BM_StringCompare/4096", "run_type": "iteration", "repetitions": 1,
     "repetition_index": 0, "threads": 1, "iterations": 752049,
     "real_time": 9.3201047672957315e+02, "cpu_time": 9.3183419610689189e+02, "time_unit": "ns"},
    {"name": "BM_StringCompare_BigO", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "BM_StringCompare", "run_type": "aggregate", "repetitions": 0, "threads": 1,
     "aggregate_name": "BigO", "aggregate_unit": "time",
     "cpu_coefficient": 2.2745898542594437e-01, "real_coefficient": 2.2750357035613768e-01,
     "big_o": "N", "time_unit": "ns"},
    {"name": "BM_StringCompare_RMS", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "BM_StringCompare", "run_type": "aggregate", "repetitions": 0, "threads": 1,
     "aggregate_name": "RMS", "aggregate_unit": "percentage", "rms": 1.2017339535081613e-02}
  ]
}"#;

#[test]
fn google_complexity_results_are_skipped_with_a_note() {
    let r = parse_bench("x", GOOGLE_COMPLEXITY.as_bytes(), &Limits::DEFAULT).unwrap();
    let names: Vec<&str> = r.measurements.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["BM_StringCompare/1024", "BM_StringCompare/4096"]);
    assert_eq!(r.notes.len(), 2, "{:?}", r.notes);
    assert!(
        r.notes[0]
            .starts_with("benchmarks[2] `BM_StringCompare_BigO` skipped: a complexity result")
    );
    assert!(r.notes[1].contains("`BM_StringCompare_RMS`"));
}

#[test]
fn a_google_aggregate_without_a_name_is_dropped_and_said_so() {
    let text = r#"{"benchmarks":[
      {"name":"a","run_name":"a","run_type":"iteration","real_time":10,"time_unit":"ns"},
      {"name":"a_mystery","run_name":"a","run_type":"aggregate","real_time":99999,"time_unit":"ns"}]}"#;
    let r = parse_bench("x", text.as_bytes(), &Limits::DEFAULT).unwrap();
    assert_eq!(r.measurements.len(), 1);
    assert_eq!(r.measurements[0].value, 10.0);
    assert_eq!(
        r.notes,
        ["benchmarks[1] `a_mystery` skipped: an aggregate without `aggregate_name`"]
    );
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = include_str!("../../../../../tests/fixtures/bench/google-plain.json");
    assert_eq!(parse(&format!("\u{feff}{text}")), parse(text));
}
