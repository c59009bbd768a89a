//! Outgoing mail: the outbox, templates and the dispatcher.
