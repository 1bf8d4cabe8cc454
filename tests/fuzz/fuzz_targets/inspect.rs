//! Fuzzes every disk-image parser through one entry (see shape.rs). Run: tests/fuzz/run.
#![no_main]

mod shape;

libfuzzer_sys::fuzz_target!(|input: &[u8]| shape::check(input));
