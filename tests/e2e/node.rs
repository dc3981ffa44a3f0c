//! End-to-end tests: node (to be written).
