//! Use cases. The API and the pages both call these, so no rule is written twice.

pub mod catalog;
pub mod problems;

/// The server's clock: milliseconds since the Unix epoch, UTC. The server's clock decides.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
