//! Okta API scope catalogue (placeholder until the generated table lands).
