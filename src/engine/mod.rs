//! Running a manifest over rows. This part is the dry run: `render` turns a row
//! into concrete requests and `plan` records them without sending anything. The engine
//! never prints and never picks an exit code; `cli` does both.

pub mod client;
mod error;
pub mod event;
pub mod fetch;
pub mod limiter;
pub mod plan;
pub mod render;
pub mod run;
mod send;
mod steps;
pub mod transform;

pub use crate::failure::{FailureCode, RowFailure};
pub use error::ExecError;
pub use event::{Event, Listener, RunSummary, Silent, Stop};
pub use plan::{PlanOptions, PlanSummary, StepCount, dry_run, resolve_params};
