//! Pure contest logic: no I/O, no async. Types validate on construction, and every function is
//! deterministic for a given input (the simulation is seeded).
//!
//! - Catalog: [`problem`], [`text`], [`markdown`], [`time`].
//! - Entries: [`timeline`], [`entry`] (the status machine), [`submission`] (the text, its
//!   checks and the receipt hash), [`attachment`] (file types and names).
//! - Judging: [`assignment`] (who judges which entry, by min-cost flow), [`rubric`] (how a review
//!   is scored), [`aggregate`] (how reviews are combined, with per-judge normalization),
//!   [`ranking`], and [`simulation`] (a synthetic contest that proves the combination is fairer
//!   than a plain mean).

pub mod account;
pub mod aggregate;
pub mod assignment;
pub mod attachment;
pub mod authz;
pub mod entry;
pub mod ids;
pub mod markdown;
pub mod problem;
pub mod ranking;
pub mod rubric;
pub mod simulation;
pub mod submission;
pub mod team;
pub mod text;
pub mod time;
pub mod timeline;
