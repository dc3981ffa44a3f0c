//! End-to-end tests: identity (to be written).
