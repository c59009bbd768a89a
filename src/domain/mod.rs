//! Pure contest logic: no I/O, no async. Types validate on construction.

pub mod markdown;
pub mod problem;
pub mod text;
pub mod time;
