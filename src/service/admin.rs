//! Organizer use cases: judge invitations, users (disable, re-enable), outbox and audit views.
