//! The single integration-test binary: every test runs the real parts end to end.

mod apply;
mod dry_run;
mod exports;
mod faults;
// Shared by every test module; not each module uses every helper, and `pub` marks the
// harness API for them (this binary exports nothing).
#[allow(dead_code, unreachable_pub)]
mod harness;
mod hostile;
mod jobs;
mod jobs_customers;
mod jobs_exports;
mod jobs_org;
mod jobs_reports;
mod jobs_wfm;
mod resume;
mod sandbox;
mod stub;
mod surface;
mod ui;
mod validate;
