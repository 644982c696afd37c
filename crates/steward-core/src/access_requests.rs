//! Access requests (placeholder until the domain model lands).
