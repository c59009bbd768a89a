//! The outbox aggregate.
