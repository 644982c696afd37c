//! SCIM filter expressions (placeholder until the parser lands).
