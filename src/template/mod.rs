//! template (placeholder while the module is built).
