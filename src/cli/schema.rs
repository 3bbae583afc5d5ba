//! `runner schema`: prints the manifest JSON Schema (checked in as
//! `schemas/manifest.schema.json`).

use super::Exit;

pub(crate) fn run() -> Exit {
    print!("{}", crate::manifest::json_schema());
    Exit::Ok
}
