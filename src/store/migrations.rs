//! Migrations, compiled into the binary: one folder per backend with the same version numbers.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

/// (version, description, SQLite SQL, PostgreSQL SQL). Add new migrations at the end.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "problems",
        include_str!("../../migrations/sqlite/0001_problems.sql"),
        include_str!("../../migrations/postgres/0001_problems.sql"),
    ),
    (
        2,
        "outbox",
        include_str!("../../migrations/sqlite/0002_outbox.sql"),
        include_str!("../../migrations/postgres/0002_outbox.sql"),
    ),
    (
        3,
        "accounts",
        include_str!("../../migrations/sqlite/0003_accounts.sql"),
        include_str!("../../migrations/postgres/0003_accounts.sql"),
    ),
    (
        4,
        "entries",
        include_str!("../../migrations/sqlite/0004_entries.sql"),
        include_str!("../../migrations/postgres/0004_entries.sql"),
    ),
];

/// File names this build embeds, per backend: `0001_problems.sql`. Tests compare them with the
/// migrations folders so that a file added to one folder and not the other, or not listed here,
/// fails the build's tests.
pub fn embedded_file_names() -> Vec<String> {
    MIGRATIONS
        .iter()
        .map(|(v, d, _, _)| format!("{v:04}_{d}.sql"))
        .collect()
}

pub fn migrator(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => *sqlite,
                Backend::Postgres => *postgres,
            };
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}
