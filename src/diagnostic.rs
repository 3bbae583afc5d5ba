//! diagnostic (placeholder).
