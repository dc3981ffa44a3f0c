//! End-to-end tests: ratchet (to be written).
