//! Writes rendered diagnostics to stderr.
