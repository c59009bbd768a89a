//! The test harness: the real server on a random port against a fresh database — a temp SQLite
//! file, or a fresh PostgreSQL database when `TEST_POSTGRES_URL` is set.

use std::path::PathBuf;
use std::str::FromStr;

use dxcontest::app::Application;
use dxcontest::config::{Config, DEFAULT_TOML, ExtractConfig};
use dxcontest::store::Store;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named test (an `async fn(Backend)`) once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if $crate::common::postgres_url().is_none() {
                    eprintln!("SKIPPED {}: TEST_POSTGRES_URL is not set", stringify!($name));
                    return;
                }
                super::$name($crate::common::Backend::Postgres).await
            })*
        }
    };
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A fresh database, removed when dropped.
pub struct TestDb {
    pub url: String,
    pg_cleanup: Option<(String, String)>,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    pg_cleanup: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_url().expect("TEST_POSTGRES_URL is set");
                let name = format!("dxt_{}", uuid::Uuid::now_v7().simple());
                let pool = admin_pool(&admin).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .expect("create test database");
                pool.close().await;
                TestDb {
                    url: with_database(&admin, &name),
                    pg_cleanup: Some((admin, name)),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_cleanup.take() {
            // Drop runs outside async; use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        let pool = admin_pool(&admin).await;
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                        pool.close().await;
                    });
                }
            })
            .join();
        }
    }
}

async fn admin_pool(url: &str) -> sqlx::AnyPool {
    install_default_drivers();
    let opts = AnyConnectOptions::from_str(url).expect("TEST_POSTGRES_URL parses");
    AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("connect to TEST_POSTGRES_URL")
}

/// The same server URL with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    _db: TestDb,
    pub dir: TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A test configuration on top of the defaults: random port, the given database, the repo's
/// problems folder, mail to a temp folder. `overrides` are (dotted key, value) pairs.
pub fn test_config(db_url: &str, dir: &TempDir, overrides: &[(&str, serde_json::Value)]) -> Config {
    let mut fig = Figment::from(Toml::string(DEFAULT_TOML))
        .merge(Serialized::default("server.listen", "127.0.0.1:0"))
        .merge(Serialized::default("database.url", db_url))
        .merge(Serialized::default("database.max_connections", 8))
        .merge(Serialized::default("problems.dir", repo_path("problems")))
        .merge(Serialized::default(
            "mail.file_dir",
            dir.path().join("mail"),
        ))
        .merge(Serialized::default("server.shutdown_grace_secs", 1))
        // A contest open for as long as any test runs; tests of the deadline set their own.
        .merge(Serialized::default(
            "timeline.registration_opens",
            "2020-01-01T00:00:00+07:00",
        ))
        .merge(Serialized::default(
            "timeline.submission_opens",
            "2020-01-01T00:00:00+07:00",
        ))
        .merge(Serialized::default(
            "timeline.registration_closes",
            "2099-12-31T17:00:00+07:00",
        ))
        .merge(Serialized::default(
            "timeline.submission_deadline",
            "2099-12-31T17:00:00+07:00",
        ))
        .merge(Serialized::default(
            "entries.storage_dir",
            dir.path().join("uploads"),
        ));
    for (k, v) in overrides {
        fig = fig.merge(Serialized::default(k, v.clone()));
    }
    fig.extract_config().expect("test config is valid")
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, serde_json::Value)]) -> TestApp {
    // Server warnings and errors go to the test's captured output, shown when it fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(&db.url, &dir, overrides);
    let app = Application::build(&config).await.expect("app builds");
    let addr = app.local_addr();
    let store = app.store().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base: format!("http://{addr}"),
        client,
        store,
        _db: db,
        dir,
        server,
    }
}

impl TestApp {
    /// The public base URL the app builds links with.
    pub fn config_base(&self) -> String {
        "http://127.0.0.1:8080".to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("JSON body");
        (status, body)
    }
}
