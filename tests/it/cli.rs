//! The `dxcontest` binary: config errors, problems check/import, migrate, openapi (the spec is
//! checked in), and serve with a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::repo_path;

fn dxcontest() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dxcontest"));
    // The tests control the environment: no DXCONTEST_ variables leak in from the shell.
    for (k, _) in std::env::vars() {
        if k.starts_with("DXCONTEST_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(repo_path(""));
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn problems_check_accepts_the_shipped_folder() {
    let (code, out, err) = run(dxcontest().args(["problems", "check", "problems"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("72 problem files are valid"), "{out}");
}

#[test]
fn problems_check_names_file_line_and_field() {
    let dir = tempfile::tempdir().expect("dir");
    let good = std::fs::read_to_string(repo_path("problems/BT-01.md")).expect("read");
    std::fs::write(
        dir.path().join("BT-01.md"),
        good.replacen("count = 32", "count = \"many\"", 1),
    )
    .expect("write");
    let (code, _, err) = run(dxcontest().arg("problems").arg("check").arg(dir.path()));
    assert_eq!(code, 1);
    assert!(
        err.contains("BT-01.md:") && err.contains("field `market.count`"),
        "{err}"
    );
}

#[test]
fn bad_config_names_the_key_and_its_source() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("custom.toml");
    std::fs::write(&file, "[server]\nlisten = \"nowhere\"\n").expect("write");
    let (code, _, err) = run(dxcontest().arg("--config").arg(&file).arg("migrate"));
    assert_eq!(code, 1);
    assert!(
        err.contains("server.listen") && err.contains("custom.toml"),
        "{err}"
    );

    let (code, _, err) = run(dxcontest()
        .env("DXCONTEST_DATABASE__MAX_CONNECTIONS", "lots")
        .arg("migrate"));
    assert_eq!(code, 1);
    assert!(
        err.contains("database.max_connections")
            && err.contains("DXCONTEST_DATABASE__MAX_CONNECTIONS"),
        "{err}"
    );

    let (code, _, err) = run(dxcontest()
        .env("DXCONTEST_DATABASE__URL", "mysql://db/x")
        .arg("migrate"));
    assert_eq!(code, 1);
    assert!(err.contains("database.url"), "{err}");

    let (code, _, err) = run(dxcontest().args(["--config", "/no/such/file.toml", "migrate"]));
    assert_eq!(code, 1);
    assert!(err.contains("/no/such/file.toml"), "{err}");
}

#[test]
fn migrate_and_import_through_the_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let (code, out, err) = run(dxcontest()
        .env("DXCONTEST_DATABASE__URL", &url)
        .arg("migrate"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migrations applied"));
    let (code, out, err) = run(dxcontest()
        .env("DXCONTEST_DATABASE__URL", &url)
        .args(["problems", "import", "problems"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("72 created, 0 updated, 0 unchanged"), "{out}");
    let (code, out, _) = run(dxcontest()
        .env("DXCONTEST_DATABASE__URL", &url)
        .args(["problems", "import", "problems"]));
    assert_eq!(code, 0);
    assert!(out.contains("0 created, 0 updated, 72 unchanged"), "{out}");
}

#[test]
fn openapi_spec_is_checked_in_and_current() {
    let (code, out, err) = run(dxcontest().arg("openapi"));
    assert_eq!(code, 0, "{err}");
    let spec: serde_json::Value = serde_json::from_str(&out).expect("spec is JSON");
    assert!(spec["paths"]["/problems/{code}"].is_object());
    let path = repo_path("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &out).expect("write spec");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == out,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test openapi_spec` and commit it"
    );
}

#[test]
fn serve_answers_then_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    let mut child = dxcontest()
        .env("DXCONTEST_DATABASE__URL", &url)
        .env("DXCONTEST_SERVER__LISTEN", "127.0.0.1:0")
        .env("DXCONTEST_LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("address")
        .to_owned();
    assert!(line.contains("listening"), "{line}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let body: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("http://{addr}/api/v1/problems?per_page=1"))
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    });
    assert_eq!(
        body["total"], 72,
        "the first start imported the problems folder"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("exit");
    assert!(out.status.success(), "exit status {:?}", out.status);
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("SIGTERM received"), "{logs}");
    // Structured request logs carry the request id, method, path, status and latency.
    let request_line = logs
        .lines()
        .find(|l| l.contains("/api/v1/problems"))
        .expect("request logged");
    let entry: serde_json::Value = serde_json::from_str(request_line).expect("JSON log line");
    for key in ["status", "latency_ms"] {
        assert!(!entry[key].is_null(), "{key} missing: {request_line}");
    }
    for key in ["request_id", "method", "path"] {
        assert!(request_line.contains(key), "{key} missing: {request_line}");
    }
}
