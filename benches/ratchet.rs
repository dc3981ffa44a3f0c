//! Benchmarks: ratchet.

pub fn run() {}
