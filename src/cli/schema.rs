//! `runner schema`: prints the manifest JSON Schema.

use super::Exit;

pub(crate) fn run() -> Exit {
    Exit::Ok
}
