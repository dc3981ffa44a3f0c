//! End-to-end tests: client (to be written).
