//! End-to-end tests: swarm (to be written).
