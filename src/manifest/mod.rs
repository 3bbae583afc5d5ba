//! manifest (placeholder while the module is built).
