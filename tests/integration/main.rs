//! The single integration-test binary: every test runs the real parts end to end.

mod dry_run;
mod harness;
mod sandbox;
