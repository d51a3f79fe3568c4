//! Parser and evaluation throughput on large generated inputs (`cargo bench -p keel-core`).
//! Inputs are generated in memory, deterministic, at the sizes the acceptance criteria name.

mod synthetic;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keel_core::diff::parse_diff;
use keel_core::report::cobertura::parse_cobertura;
use keel_core::report::lcov::parse_lcov;
use keel_core::report::sarif::parse_sarif;
use keel_core::{Config, Facts, Limits};
use std::hint::black_box;
use std::time::Duration;

fn parsers(c: &mut Criterion) {
    let limits = Limits::DEFAULT;
    let lcov = synthetic::lcov(8000, 1000);
    let xml = synthetic::cobertura(1200, 1000);
    let sarif = synthetic::sarif(110_000);
    let mut g = c.benchmark_group("parse");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .warm_up_time(Duration::from_secs(2));
    g.throughput(Throughput::Bytes(lcov.len() as u64));
    g.bench_function(format!("lcov/{}MB", lcov.len() >> 20), |b| {
        b.iter(|| parse_lcov("big.lcov", black_box(&lcov[..]), &limits).unwrap())
    });
    g.throughput(Throughput::Bytes(xml.len() as u64));
    g.bench_function(format!("cobertura/{}MB", xml.len() >> 20), |b| {
        b.iter(|| parse_cobertura("big.xml", black_box(&xml[..]), &limits).unwrap())
    });
    g.throughput(Throughput::Bytes(sarif.len() as u64));
    g.bench_function(format!("sarif/{}MB", sarif.len() >> 20), |b| {
        b.iter(|| parse_sarif("big.sarif", black_box(&sarif[..]), &limits).unwrap())
    });
    g.finish();

    let report = parse_lcov("big.lcov", &lcov[..], &limits).unwrap();
    let diff = parse_diff("big.diff", &synthetic::diff(50, 1000), &limits).unwrap();
    let config = Config::parse("k", "[coverage]\nmin_total = 80\nmin_patch = 80\n").unwrap();
    let facts = Facts {
        coverage: Some(report),
        diff: Some(diff),
        ..Facts::default()
    };
    let mut g = c.benchmark_group("evaluate");
    g.sample_size(10);
    g.bench_function("coverage/8000-files+50k-added-lines", |b| {
        b.iter(|| keel_core::evaluate(&config, black_box(&facts)))
    });
    g.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
