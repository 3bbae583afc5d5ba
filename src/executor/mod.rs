//! executor (placeholder while the module is built).
