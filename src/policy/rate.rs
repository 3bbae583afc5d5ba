//! Rate-limit header interpretation (placeholder).
