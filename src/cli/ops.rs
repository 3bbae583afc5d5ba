//! `runner ops`: lists the catalog's operations as an aligned table on stdout.
//!
//! It only formats what [`crate::catalog`] holds; the matching rules live there.

use std::fmt::Write as _;
use std::io::Write as _;

use super::Exit;
use crate::catalog::{self, Operation};

/// Arguments of `runner ops`.
#[derive(Debug, clap::Args)]
pub(crate) struct OpsArgs {
    /// Only operations whose id, method, path or resource contains this text (case-insensitive).
    filter: Option<String>,
}

pub(crate) fn run(args: &OpsArgs) -> Exit {
    let catalog = catalog::gladly();
    let filter = args.filter.as_deref().unwrap_or("");
    let ops = catalog.filter(filter);
    if ops.is_empty() {
        let hint = catalog
            .suggest(filter)
            .map_or_else(String::new, |id| format!(" (did you mean `{id}`?)"));
        // A closed stderr leaves nothing to report to.
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: no operation matches `{filter}`{hint}"
        );
        return Exit::Usage;
    }
    // A closed stdout (`runner ops | head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(render(&ops).as_bytes());
    Exit::Ok
}

/// The table: a header, one line per operation, then the count.
fn render(ops: &[&Operation]) -> String {
    let mut rows = vec![[
        "METHOD".to_owned(),
        "PATH".to_owned(),
        "OPERATION".to_owned(),
        "RATE".to_owned(),
        "SUCCESS".to_owned(),
    ]];
    rows.extend(ops.iter().map(|op| {
        [
            op.method.to_string(),
            op.path.clone(),
            op.id.clone(),
            op.rate_class.to_string(),
            op.success.to_string(),
        ]
    }));
    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let noun = if ops.len() == 1 {
        "operation"
    } else {
        "operations"
    };
    let _ = writeln!(out, "{} {noun}", ops.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_aligned_table_with_a_count() {
        let ops = catalog::gladly().filter("/api/v1/reports");
        let table = render(&ops);
        assert_eq!(
            table,
            "METHOD  PATH                                 OPERATION                  RATE     SUCCESS\n\
             POST    /api/v1/reports                      generateReport             reports  200\n\
             POST    /api/v1/reports/work-session-events  generateWorkSessionReport  reports  200\n\
             2 operations\n"
        );
    }

    #[test]
    fn lists_every_operation_without_a_filter() {
        let ops = catalog::gladly().filter("");
        let table = render(&ops);
        assert_eq!(table.lines().count(), 82);
        assert!(table.ends_with("80 operations\n"));
        assert_eq!(render(&ops[..1]).lines().last(), Some("1 operation"));
    }
}
