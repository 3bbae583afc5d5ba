//! results (placeholder while the module is built).
