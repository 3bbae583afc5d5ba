//! catalog (placeholder while the module is built).
