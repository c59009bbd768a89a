//! The teams aggregate: teams and their members.
