//! sandbox (placeholder while the module is built).
