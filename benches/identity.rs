//! Benchmarks: identity.

pub fn run() {}
