//! End-to-end tests: crypto (to be written).
