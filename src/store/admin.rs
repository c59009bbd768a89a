//! Organizer tools: queries the organizer pages and API need beyond the other aggregates.
