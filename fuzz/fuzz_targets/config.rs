#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keel::fuzz_targets::config(data));
