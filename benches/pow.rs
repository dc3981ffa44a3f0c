//! Benchmarks: pow.

pub fn run() {}
