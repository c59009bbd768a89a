//! Migrations: the two backend folders hold the same versions, the binary embeds exactly them,
//! and they apply (twice, harmlessly) on both databases.

use dxcontest::store::{Store, migrations::embedded_file_names};

use crate::common::{Backend, TestDb, repo_path, test_config};
use crate::on_both_backends;

fn files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_path(dir))
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_folders_have_the_same_versions() {
    let sqlite = files("migrations/sqlite");
    let postgres = files("migrations/postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migration folders differ");
    assert_eq!(
        sqlite,
        embedded_file_names(),
        "src/store/migrations.rs must list every migration file"
    );
}

on_both_backends!(migrations_apply_and_are_idempotent);

async fn migrations_apply_and_are_idempotent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(&db.url, &dir, &[]);
    let store = Store::connect(&config.database).await.expect("connect");
    store.migrate().await.expect("first run");
    store.migrate().await.expect("second run is a no-op");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .expect("migrations table");
    assert_eq!(applied as usize, embedded_file_names().len());
    let (count, _) = store
        .problems_fingerprint()
        .await
        .expect("problems table exists");
    assert_eq!(count, 0);
    if backend == Backend::Sqlite {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .expect("pragma");
        assert_eq!(mode, "wal");
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(store.pool())
            .await
            .expect("pragma");
        assert_eq!(timeout, 5000);
    }
    store.close().await;
}
