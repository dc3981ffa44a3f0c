//! Benchmarks: network.

pub fn run() {}
