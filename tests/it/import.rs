//! Importing problem folders: one transaction, idempotent, codes stable; a malformed file names
//! the file, line and field and imports nothing; the running server picks changes up.

use std::path::Path;
use std::time::Duration;

use dxcontest::service::problems::{ImportError, import_dir};

use crate::common::{Backend, repo_path, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    malformed_files_import_nothing_and_are_all_reported,
    reimport_is_idempotent_and_updates_changed_statements,
    prune_archives_missing_codes_and_reimport_restores_them,
    duplicate_codes_are_refused,
);

/// A copy of the repo's problems folder to edit.
fn copy_problems(to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(repo_path("problems")).expect("problems folder") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

async fn ids(app: &crate::common::TestApp) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = app
        .store
        .active_problems()
        .await
        .expect("load")
        .into_iter()
        .map(|s| (s.problem.code.to_string(), s.id))
        .collect();
    v.sort();
    v
}

async fn malformed_files_import_nothing_and_are_all_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = ids(&app).await;
    let dir = app.dir.path().join("problems");
    copy_problems(&dir);
    // A good change that must not land, and two broken files.
    edit(
        &dir.join("BT-03.md"),
        "title_en = \"",
        "title_en = \"CHANGED ",
    );
    edit(
        &dir.join("BT-05.md"),
        "field = \"transport\"",
        "field = \"space\"",
    );
    edit(
        &dir.join("BT-40.md"),
        "[market]",
        "[market]\ncolour = \"red\"",
    );

    let err = import_dir(&app.store, None, &dir, false)
        .await
        .expect_err("must fail");
    let ImportError::Invalid(errors) = err else {
        panic!("expected validation errors, got {err}");
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].file.ends_with("BT-05.md"));
    assert_eq!((errors[0].field.as_str(), errors[0].line), ("field", 8));
    assert!(errors[0].message.contains("space"));
    assert!(errors[1].file.ends_with("BT-40.md"));
    assert_eq!(errors[1].field, "colour");

    assert_eq!(ids(&app).await, before);
    let (_, bt03) = app.get_json("/api/v1/problems/BT-03").await;
    assert!(
        !bt03["title_en"]
            .as_str()
            .unwrap_or("")
            .starts_with("CHANGED")
    );
}

async fn reimport_is_idempotent_and_updates_changed_statements(backend: Backend) {
    let app = spawn_app_with(backend, &[("problems.refresh_secs", 1.into())]).await;
    let before = ids(&app).await;
    assert_eq!(before.len(), 72);

    let again = import_dir(&app.store, None, &repo_path("problems"), false)
        .await
        .expect("import");
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 72));
    assert_eq!(ids(&app).await, before, "ids are stable");

    let dir = app.dir.path().join("problems");
    copy_problems(&dir);
    edit(
        &dir.join("BT-02.md"),
        "title_en = \"",
        "title_en = \"Revised: ",
    );
    let new_file = std::fs::read_to_string(dir.join("BT-01.md"))
        .expect("read")
        .replacen("code = \"BT-01\"", "code = \"BT-73\"", 1);
    std::fs::write(dir.join("BT-73.md"), new_file).expect("write");
    let etag_before = app.get("/api/v1/problems/BT-02").await.headers()["etag"].clone();

    let counts = import_dir(&app.store, None, &dir, false)
        .await
        .expect("import");
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (1, 1, 71)
    );
    let after = ids(&app).await;
    assert_eq!(after.len(), 73);
    assert!(
        before.iter().all(|pair| after.contains(pair)),
        "existing codes keep their ids"
    );

    // The running server notices the change made behind its back (as another instance would).
    let mut title = String::new();
    for _ in 0..50 {
        let (_, body) = app.get_json("/api/v1/problems/BT-02").await;
        title = body["title_en"].as_str().unwrap_or("").to_owned();
        if title.starts_with("Revised: ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        title.starts_with("Revised: "),
        "catalog was not refreshed: {title}"
    );
    let etag_after = app.get("/api/v1/problems/BT-02").await.headers()["etag"].clone();
    assert_ne!(etag_before, etag_after);
    let (_, list) = app.get_json("/api/v1/problems?per_page=1").await;
    assert_eq!(list["total"], 73);
}

async fn prune_archives_missing_codes_and_reimport_restores_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = app.dir.path().join("problems");
    copy_problems(&dir);
    std::fs::remove_file(dir.join("BT-72.md")).expect("rm");
    let without_prune = import_dir(&app.store, None, &dir, false)
        .await
        .expect("import");
    assert_eq!(without_prune.archived, 0);
    assert_eq!(app.store.active_problems().await.expect("load").len(), 72);

    let pruned = import_dir(&app.store, None, &dir, true)
        .await
        .expect("import");
    assert_eq!((pruned.archived, pruned.unchanged), (1, 71));
    let active = app.store.active_problems().await.expect("load");
    assert_eq!(active.len(), 71);
    assert!(active.iter().all(|s| s.problem.code.as_str() != "BT-72"));

    let restored = import_dir(&app.store, None, &repo_path("problems"), true)
        .await
        .expect("import");
    assert_eq!(
        (restored.updated, restored.created, restored.archived),
        (1, 0, 0)
    );
    assert_eq!(app.store.active_problems().await.expect("load").len(), 72);
}

async fn duplicate_codes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = app.dir.path().join("problems");
    copy_problems(&dir);
    std::fs::copy(dir.join("BT-07.md"), dir.join("copy-of-seven.md")).expect("copy");
    let err = import_dir(&app.store, None, &dir, false)
        .await
        .expect_err("duplicate");
    let message = err.to_string();
    assert!(
        message.contains("copy-of-seven.md")
            && message.contains("BT-07")
            && message.contains("already used"),
        "{message}"
    );
}
