//! Teams: create, invite, accept, leave, remove, hand over leadership.
