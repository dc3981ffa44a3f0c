//! Helpers shared by the end-to-end tests: running commands, free ports, testnets that clean up.
