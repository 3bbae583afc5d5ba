//! policy (placeholder while the module is built).
