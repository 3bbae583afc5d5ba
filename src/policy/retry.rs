//! Retry decisions and backoff (placeholder).
