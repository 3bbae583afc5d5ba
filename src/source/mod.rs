//! source (placeholder while the module is built).
