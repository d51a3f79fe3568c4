//! Every fuzz target replayed over its seed corpus (`fuzz/corpus/<target>`) and the inputs
//! kept from past crashes (`fuzz/regressions/<target>`), as an ordinary test: CI runs the
//! fuzzers' starting points without the fuzzer.

use crate::support::root;
use keel::fuzz_targets::TARGETS;

#[test]
fn every_seed_and_every_kept_crash_runs_through_its_target_without_panicking() {
    let mut ran = 0;
    for (name, target) in TARGETS {
        let mut seeds = 0;
        for dir in ["fuzz/corpus", "fuzz/regressions"] {
            let Ok(entries) = std::fs::read_dir(root().join(dir).join(name)) else {
                continue;
            };
            for entry in entries.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap();
                target(&bytes);
                // Cut-off and doubled inputs too: the cheapest mutations.
                target(&bytes[..bytes.len() / 2]);
                target(&[&bytes[..], &bytes[..]].concat());
                seeds += 1;
            }
        }
        assert!(seeds > 0, "target `{name}` has no seed corpus");
        ran += seeds;
    }
    assert!(ran >= 20, "{ran}");
}
