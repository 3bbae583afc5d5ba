//! Dry runs of real manifests with the built binary.
