//! Entries end to end over HTTP: drafts, attachments (checked by content, streamed, limited,
//! never half-written), submits with versions and receipts, idempotent retries, withdrawal, the
//! timeline with grace and extensions, organizer statuses (single and bulk) with mail to every
//! member in their language, the list, the CSV export, access control, and the deadline rush.
//!
//! Teams are seeded straight into the database (one password hash for all) so that hundreds of
//! them cost little; everything under test goes through HTTP.

use std::collections::HashSet;
use std::time::Duration;

use dxcontest::domain::account::Role;
use dxcontest::domain::submission::{AttachmentRef, Canonical, EntryText};
use dxcontest::i18n::Lang;
use dxcontest::mail::OutboxFilter;
use dxcontest::service::{accounts::hash_password, new_token, now_ms};
use dxcontest::store::accounts::{NewUser, insert_session, insert_user};
use dxcontest::store::new_id;
use dxcontest::store::teams::{TeamRecord, insert_member, insert_team};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::admin::{NO_SUCH_ID, PASSWORD, mail_settings, make_organizer, make_user};
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::mail::TestSmtp;
use crate::on_both_backends;
use crate::teams::api;

on_both_backends!(
    a_team_drafts_uploads_submits_resubmits_and_withdraws,
    bad_uploads_are_refused_and_leave_nothing_behind,
    the_server_clock_decides_with_grace_and_extensions,
    organizers_move_statuses_and_every_member_is_mailed,
    organizers_list_filter_count_and_export,
    only_the_team_and_organizers_see_an_entry,
    deadline_rush,
);

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A seeded member: id, address and a session token.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// A seeded team and its members (the first is the leader).
#[derive(Debug, Clone)]
pub struct SeededTeam {
    pub id: String,
    pub members: Vec<Member>,
}

/// Inserts a verified participant with a live session.
async fn seed_member(app: &TestApp, email: &str, name: &str, lang: Lang, hash: &str) -> Member {
    let id = new_id();
    let now = now_ms();
    insert_user(
        app.store.pool(),
        &NewUser {
            id: &id,
            email,
            full_name: name,
            organization: "Trường Đại học Cần Thơ",
            phone: None,
            lang,
            role: Role::Participant,
            password_hash: hash,
            verified_at: Some(now),
            now,
        },
    )
    .await
    .expect("insert user");
    let (token, token_hash) = new_token();
    insert_session(
        app.store.pool(),
        &token_hash,
        &id,
        now,
        now + 86_400_000,
        None,
    )
    .await
    .expect("insert session");
    Member {
        id,
        email: email.to_owned(),
        token,
    }
}

/// Inserts a team with `langs.len()` members, each with the given language.
pub async fn seed_team(app: &TestApp, tag: &str, langs: &[Lang], hash: &str) -> SeededTeam {
    let mut members = Vec::new();
    for (i, lang) in langs.iter().enumerate() {
        let email = format!("{tag}-{i}@truong.edu.vn");
        members.push(seed_member(app, &email, &format!("Thành viên {tag} {i}"), *lang, hash).await);
    }
    let now = now_ms();
    let team = TeamRecord {
        id: new_id(),
        name: format!("Đội {tag}"),
        name_key: format!("doi {tag}"),
        kind: "student".into(),
        province: "Cần Thơ".into(),
        organization: "Trường Đại học Cần Thơ".into(),
        leader_id: members[0].id.clone(),
        created_at: now,
        updated_at: now,
    };
    insert_team(app.store.pool(), &team)
        .await
        .expect("insert team");
    for m in &members {
        insert_member(app.store.pool(), &team.id, &m.id, now)
            .await
            .expect("insert member");
    }
    SeededTeam {
        id: team.id,
        members,
    }
}

async fn password_hash() -> String {
    hash_password(PASSWORD).await.expect("hash")
}

fn full_fields(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "Nền tảng số giúp người dân nộp hồ sơ trực tuyến.",
        "description": "## Giải pháp\n\nMô tả chi tiết **giải pháp**.",
        "maturity": "pilot",
        "deployed_where": "UBND thành phố Cần Thơ",
        "technologies": "Rust, PostgreSQL",
        "experience": "Ba năm làm dịch vụ công",
        "demo_url": "https://demo.example.vn",
        "video_url": "https://video.example.vn/v/1",
    })
}

async fn create_entry(app: &TestApp, token: &str, problem: &str, title: &str) -> String {
    let mut body = full_fields(title);
    body["problem_code"] = json!(problem);
    let (status, body) = api(
        app,
        Method::POST,
        "/api/v1/entries",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("entry id").to_owned()
}

/// Uploads raw bytes under `name`; returns the status and the JSON body.
async fn upload(
    app: &TestApp,
    token: &str,
    entry: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/entries/{entry}/attachments")))
        .query(&[("name", name)])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn submit(app: &TestApp, token: &str, entry: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/entries/{entry}/submit")))
        .bearer_auth(token);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.expect("submit sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn pdf(size: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    v.resize(size.max(v.len()), b'x');
    v
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn assert_problem(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        got.1
    );
}

fn assert_field(got: &(u16, Value), status: u16, field: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    let fields: Vec<&str> = got.1["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        got.1["field"] == field || fields.contains(&field),
        "expected field {field}: {}",
        got.1
    );
}

/// Files under the storage folder's objects/ and tmp/.
fn stored_files(app: &TestApp) -> (usize, usize) {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    let root = app.dir.path().join("uploads");
    (count(&root.join("objects")), count(&root.join("tmp")))
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.store.pool())
        .await
        .expect("count")
}

async fn organizer(app: &TestApp) -> String {
    make_organizer(app, "btc@mic.gov.vn", "Ban Tổ chức").await;
    crate::admin::login(app, "btc@mic.gov.vn").await
}

async fn set_timeline(
    app: &TestApp,
    org: &str,
    deadline_ms: i64,
    grace_minutes: i64,
) -> (u16, Value) {
    let iso = |ms: i64| dxcontest::domain::time::Millis(ms).rfc3339_utc();
    api(
        app,
        Method::PUT,
        "/api/v1/timeline",
        Some(org),
        Some(json!({
            "registration_opens": "2020-01-01T00:00:00+07:00",
            "registration_closes": iso(deadline_ms - 1000),
            "submission_opens": "2020-01-01T00:00:00+07:00",
            "submission_deadline": iso(deadline_ms),
            "grace_minutes": grace_minutes,
        })),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Tests.

async fn a_team_drafts_uploads_submits_resubmits_and_withdraws(backend: Backend) {
    let app = spawn_app_with(backend, &[("entries.max_problems_per_team", json!(2))]).await;
    let hash = password_hash().await;
    let team = seed_team(&app, "a", &[Lang::Vi, Lang::En], &hash).await;
    let lead = &team.members[0].token;

    // A problem that does not exist, and a missing title, are named.
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/entries",
        Some(lead),
        Some(json!({"problem_code": "BT-99", "title": ""})),
    )
    .await;
    assert_field(&bad, 400, "problem_code");
    assert_field(&bad, 400, "title");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM entries").await, 0);

    // A draft needs only a title.
    let (status, draft) = api(
        &app,
        Method::POST,
        "/api/v1/entries",
        Some(lead),
        Some(json!({"problem_code": "bt-07", "title": "  Hồ sơ sức khoẻ điện tử  "})),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["problem_code"], "BT-07");
    assert_eq!(draft["title"], "Hồ sơ sức khoẻ điện tử");
    assert_eq!(draft["may_edit"], true);
    let id = draft["id"].as_str().expect("id").to_owned();

    // One entry per problem; at most two problems here.
    let again = api(
        &app,
        Method::POST,
        "/api/v1/entries",
        Some(lead),
        Some(json!({"problem_code": "BT-07", "title": "Lần nữa"})),
    )
    .await;
    assert_problem(&again, 409, "entry_exists");
    create_entry(&app, lead, "BT-08", "Thứ hai").await;
    let third = api(
        &app,
        Method::POST,
        "/api/v1/entries",
        Some(lead),
        Some(json!({"problem_code": "BT-09", "title": "Thứ ba"})),
    )
    .await;
    assert_problem(&third, 409, "too_many_entries");

    // An incomplete draft cannot be submitted; the missing fields are named.
    let incomplete = submit(&app, lead, &id, None).await;
    assert_field(&incomplete, 400, "summary");
    assert_field(&incomplete, 400, "maturity");

    // Bad fields are named, and nothing changes.
    let mut bad_fields = full_fields("Tên");
    bad_fields["demo_url"] = json!("javascript:alert(1)");
    bad_fields["summary"] = json!("x".repeat(1001));
    let refused = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{id}"),
        Some(lead),
        Some(bad_fields),
    )
    .await;
    assert_field(&refused, 400, "demo_url");
    assert_field(&refused, 400, "summary");

    // The second member (English) saves the full text and uploads a file.
    let second = &team.members[1].token;
    let (status, saved) = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{id}"),
        Some(second),
        Some(full_fields("Hồ sơ sức khoẻ điện tử")),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["fields"]["maturity"], "pilot");
    let file = pdf(300_000);
    let (status, att) = upload(&app, second, &id, "Thuyết minh.pdf", file.clone()).await;
    assert_eq!(status, 201, "{att}");
    assert_eq!(att["sha256"], sha_hex(&file));
    assert_eq!(att["size"], 300_000);
    assert_eq!(att["kind"], "pdf");

    // Submit: a receipt for version 1 whose hash is the canonical content's.
    let (status, receipt) = submit(&app, lead, &id, Some("first-submit")).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["version"], 1);
    assert_eq!(receipt["late"], false);
    assert_eq!(receipt["replayed"], false);
    let text = EntryText::parse(&dxcontest::domain::submission::EntryInput {
        title: "Hồ sơ sức khoẻ điện tử".into(),
        summary: "Nền tảng số giúp người dân nộp hồ sơ trực tuyến.".into(),
        description: "## Giải pháp\n\nMô tả chi tiết **giải pháp**.".into(),
        maturity: "pilot".into(),
        deployed_where: "UBND thành phố Cần Thơ".into(),
        technologies: "Rust, PostgreSQL".into(),
        experience: "Ba năm làm dịch vụ công".into(),
        demo_url: "https://demo.example.vn".into(),
        video_url: "https://video.example.vn/v/1".into(),
    })
    .expect("valid");
    let expected = Canonical::new(
        "BT-07",
        &text,
        vec![AttachmentRef {
            name: "Thuyết minh.pdf".into(),
            size: 300_000,
            sha256: sha_hex(&file),
        }],
    )
    .sha256();
    assert_eq!(receipt["content_sha256"], expected.as_str());

    // A retry with the same key: the same receipt, no second version.
    let (status, replay) = submit(&app, second, &id, Some("first-submit")).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["version"], 1);
    assert_eq!(replay["content_sha256"], receipt["content_sha256"]);
    assert_eq!(replay["submitted_at"], receipt["submitted_at"]);
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM entry_versions").await,
        1
    );

    // A receipt mail per member, in each member's language.
    let (rows, _) = app
        .store
        .list_outbox(&OutboxFilter {
            kind: Some("entry_receipt".into()),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert!(r.text.contains(&expected), "{}", r.text);
        if r.to_email == team.members[1].email {
            assert!(r.subject.contains("Receipt"), "{}", r.subject);
        } else {
            assert!(r.subject.contains("Biên nhận"), "{}", r.subject);
        }
    }

    // Edit after submitting: the submitted version stays; resubmit makes version 2.
    let mut changed = full_fields("Hồ sơ sức khoẻ điện tử v2");
    changed["maturity"] = json!("deployed");
    let (status, edited) = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{id}"),
        Some(lead),
        Some(changed),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["status"], "submitted");
    assert_eq!(edited["version"], 1);
    assert_eq!(edited["changed_since_submit"], true);
    // Organizers see what was submitted, not the draft.
    let org = organizer(&app).await;
    let (_, seen) = api(
        &app,
        Method::GET,
        &format!("/api/v1/entries/{id}"),
        Some(&org),
        None,
    )
    .await;
    assert_eq!(seen["fields"]["title"], "Hồ sơ sức khoẻ điện tử", "{seen}");
    assert_eq!(seen["fields"]["maturity"], "pilot");
    assert_eq!(seen["attachments"].as_array().map(Vec::len), Some(1));
    let (status, v2) = submit(&app, lead, &id, None).await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_ne!(v2["content_sha256"], receipt["content_sha256"]);

    // Both receipts stay readable.
    let (status, r1) = api(
        &app,
        Method::GET,
        &format!("/api/v1/entries/{id}/receipts/1"),
        Some(second),
        None,
    )
    .await;
    assert_eq!(status, 200, "{r1}");
    assert_eq!(r1["content_sha256"], receipt["content_sha256"]);

    // Withdraw, then submit again before the deadline: version 3.
    let (status, w) = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{id}/withdraw"),
        Some(lead),
        None,
    )
    .await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["status"], "withdrawn");
    let withdrawn_again = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{id}/withdraw"),
        Some(lead),
        None,
    )
    .await;
    assert_problem(&withdrawn_again, 409, "transition_not_allowed");
    let (status, v3) = submit(&app, lead, &id, None).await;
    assert_eq!(status, 201, "{v3}");
    assert_eq!(v3["version"], 3);

    // The file downloads with its bytes, a safe disposition and its digest.
    let att_id = att["id"].as_str().expect("attachment id");
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/entries/{id}/attachments/{att_id}")))
        .bearer_auth(lead)
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status().as_u16(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Thuy%E1%BA%BFt%20minh.pdf"),
        "{disposition}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), file.as_slice());

    // The entry shows three versions, newest first, and its history.
    let (_, entry) = api(
        &app,
        Method::GET,
        &format!("/api/v1/entries/{id}"),
        Some(second),
        None,
    )
    .await;
    let versions: Vec<i64> = entry["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_i64().expect("n"))
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let history: Vec<&str> = entry["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["to"].as_str().expect("to"))
        .collect();
    assert_eq!(history, ["submitted", "withdrawn", "submitted"]);

    // The team's list.
    let (status, mine) = api(&app, Method::GET, "/api/v1/entries/mine", Some(lead), None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["items"].as_array().expect("items").len(), 2);
    assert_eq!(mine["max_entries"], 2);

    // A never-submitted draft can be deleted, freeing its slot; a submitted one cannot.
    let other = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["problem_code"] == "BT-08")
        .and_then(|e| e["id"].as_str())
        .expect("BT-08")
        .to_owned();
    let refused = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/entries/{id}"),
        Some(lead),
        None,
    )
    .await;
    assert_problem(&refused, 409, "already_submitted");
    let (status, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/entries/{other}"),
        Some(lead),
        None,
    )
    .await;
    assert_eq!(status, 204);
    create_entry(&app, lead, "BT-09", "Thay cho BT-08").await;
}

async fn bad_uploads_are_refused_and_leave_nothing_behind(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("entries.max_file_mb", json!(1)),
            ("entries.max_entry_mb", json!(2)),
        ],
    )
    .await;
    let hash = password_hash().await;
    let team = seed_team(&app, "b", &[Lang::Vi], &hash).await;
    let t = &team.members[0].token;
    let id = create_entry(&app, t, "BT-01", "Tệp").await;
    let mb = 1024 * 1024;

    // Too large (declared), and too large while streaming (chunked, no length).
    let big = upload(&app, t, &id, "lon.pdf", pdf(mb + 1)).await;
    assert_problem(&big, 413, "file_too_large");
    assert_eq!(big.1["field"], "file");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..20)
        .map(|i| {
            Ok(if i == 0 {
                pdf(100_000)
            } else {
                vec![b'x'; 100_000]
            })
        })
        .collect();
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/entries/{id}/attachments")))
        .query(&[("name", "chunked.pdf")])
        .bearer_auth(t)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 413);

    // Not an allowed type; a type that does not match the content; empty.
    let exe = upload(&app, t, &id, "setup.exe", b"MZ\x90\0".to_vec()).await;
    assert_field(&exe, 400, "name");
    let png_as_pdf = upload(
        &app,
        t,
        &id,
        "bao-cao.pdf",
        b"\x89PNG\r\n\x1a\nrest".to_vec(),
    )
    .await;
    assert_field(&png_as_pdf, 400, "file");
    assert!(
        png_as_pdf.1["detail"]
            .as_str()
            .unwrap_or("")
            .contains("PNG"),
        "{}",
        png_as_pdf.1
    );
    let empty = upload(&app, t, &id, "rong.pdf", Vec::new()).await;
    assert_field(&empty, 400, "file");
    // A ZIP named .docx without a Word document inside.
    let zip = upload(&app, t, &id, "thu.docx", plain_zip()).await;
    assert_field(&zip, 400, "file");

    // Names with separators, control characters, invisible marks.
    for name in [
        "../../etc/passwd.pdf",
        "a/b.pdf",
        "a\\b.pdf",
        "x\u{7}.pdf",
        "gnp\u{202E}.pdf",
    ] {
        let got = upload(&app, t, &id, name, pdf(10)).await;
        assert_field(&got, 400, "name");
    }

    // English messages when asked.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/entries/{id}/attachments?lang=en")))
        .query(&[("name", "x.pdf")])
        .bearer_auth(t)
        .body(b"\x89PNG\r\n\x1a\n".to_vec())
        .send()
        .await
        .expect("sent");
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("does not match"),
        "{body}"
    );

    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM attachments").await,
        0
    );
    assert_eq!(stored_files(&app), (0, 0));

    // A decomposed Vietnamese name is stored composed; the entry's total is enforced.
    let (status, a) = upload(&app, t, &id, "Ba\u{0301}o ca\u{0301}o.pdf", pdf(900_000)).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["name"], "Báo cáo.pdf");
    let (status, _) = upload(&app, t, &id, "hai.png", png(900_000)).await;
    assert_eq!(status, 201);
    let over = upload(&app, t, &id, "ba.pdf", pdf(900_000)).await;
    assert_problem(&over, 413, "file_too_large");
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM attachments").await,
        2
    );
    assert_eq!(stored_files(&app), (2, 0));

    // Removing a never-submitted file deletes it from storage.
    let aid = a["id"].as_str().expect("id");
    let (status, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/entries/{id}/attachments/{aid}"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(stored_files(&app), (1, 0));

    // Another team's entry and a missing entry: 404, nothing stored.
    let other = seed_team(&app, "b2", &[Lang::Vi], &hash).await;
    let foreign = upload(&app, &other.members[0].token, &id, "x.pdf", pdf(10)).await;
    assert_problem(&foreign, 404, "not_found");
    let missing = upload(&app, t, NO_SUCH_ID, "x.pdf", pdf(10)).await;
    assert_problem(&missing, 404, "not_found");
    assert_eq!(stored_files(&app), (1, 0));
}

/// A ZIP archive holding one stored file `a.txt`.
fn plain_zip() -> Vec<u8> {
    let name = b"a.txt";
    let data = b"hello";
    let crc = crc32(data);
    let mut z = Vec::new();
    z.extend_from_slice(b"PK\x03\x04");
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    z.extend_from_slice(name);
    z.extend_from_slice(data);
    let cd_start = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02");
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name);
    let cd_len = z.len() as u32 - cd_start;
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd_start.to_le_bytes());
    z.extend_from_slice(&[0, 0]);
    z
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png(size: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.resize(size, 0);
    v
}

async fn the_server_clock_decides_with_grace_and_extensions(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let hash = password_hash().await;
    let org = organizer(&app).await;
    let late_team = seed_team(&app, "c1", &[Lang::Vi], &hash).await;
    let ext_team = seed_team(&app, "c2", &[Lang::Vi], &hash).await;
    let lt = &late_team.members[0].token;
    let et = &ext_team.members[0].token;
    let late_entry = create_entry(&app, lt, "BT-02", "Muộn").await;
    let ext_entry = create_entry(&app, et, "BT-02", "Gia hạn").await;
    let (status, _) = submit(&app, lt, &late_entry, None).await;
    assert_eq!(status, 201);

    // Bad timelines are refused, naming the field.
    let bad = api(
        &app,
        Method::PUT,
        "/api/v1/timeline",
        Some(&org),
        Some(json!({
            "registration_opens": "hôm qua",
            "registration_closes": "2027-01-01T00:00:00Z",
            "submission_opens": "2027-01-01T00:00:00Z",
            "submission_deadline": "2026-01-01T00:00:00Z",
        })),
    )
    .await;
    assert_field(&bad, 400, "registration_opens");
    let bad = api(
        &app,
        Method::PUT,
        "/api/v1/timeline",
        Some(&org),
        Some(json!({
            "registration_opens": "2026-01-01T00:00:00Z",
            "registration_closes": "2026-02-01T00:00:00Z",
            "submission_opens": "2026-03-01T00:00:00Z",
            "submission_deadline": "2026-02-15T00:00:00Z",
        })),
    )
    .await;
    assert_field(&bad, 400, "submission_deadline");
    // Participants may not change it.
    let (status, _) = set_timeline(&app, lt, now_ms(), 0).await;
    assert_eq!(status, 403);

    // The deadline was a minute ago; the grace period is ten minutes: submits are late.
    let (status, t) = set_timeline(&app, &org, now_ms() - 60_000, 10).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["submissions"], "grace");
    assert_eq!(t["registration_open"], false);
    let (status, public) = api(&app, Method::GET, "/api/v1/timeline", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(public["grace_minutes"], 10);
    assert_eq!(public["saved"], true);
    let (status, r) = submit(&app, et, &ext_entry, None).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["late"], true);
    // The grace period takes a submit of what is saved; edits are closed at the deadline.
    let edit = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{ext_entry}"),
        Some(et),
        Some(full_fields("Sửa trong gia hạn")),
    )
    .await;
    assert_problem(&edit, 409, "deadline_passed");
    let up = upload(&app, et, &ext_entry, "x.pdf", pdf(10)).await;
    assert_problem(&up, 409, "deadline_passed");
    // Withdrawing is only before the deadline.
    let w = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{late_entry}/withdraw"),
        Some(lt),
        None,
    )
    .await;
    assert_problem(&w, 409, "withdraw_after_deadline");
    // Registration is closed: no new teams.
    let newcomer = make_user(&app, "moi@truong.edu.vn", "Người mới", Role::Participant).await;
    assert!(!newcomer.is_empty());
    let nt = crate::admin::login(&app, "moi@truong.edu.vn").await;
    let refused = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&nt),
        Some(json!({"name": "Đội mới", "kind": "student", "province": "Hà Nội", "organization": "ĐH Quốc gia Hà Nội"})),
    )
    .await;
    assert_problem(&refused, 409, "registration_closed");

    // Past the grace period: every change is refused with a clear error.
    let (status, _) = set_timeline(&app, &org, now_ms() - 3_600_000, 10).await;
    assert_eq!(status, 200);
    let closed = submit(&app, lt, &late_entry, None).await;
    assert_problem(&closed, 409, "deadline_passed");
    assert!(
        closed.1["detail"].as_str().unwrap_or("").contains("hạn"),
        "{}",
        closed.1
    );
    let edit = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{late_entry}"),
        Some(lt),
        Some(full_fields("Sửa muộn")),
    )
    .await;
    assert_problem(&edit, 409, "deadline_passed");
    let up = upload(&app, lt, &late_entry, "x.pdf", pdf(10)).await;
    assert_problem(&up, 409, "deadline_passed");
    let new_entry = api(
        &app,
        Method::POST,
        "/api/v1/entries",
        Some(lt),
        Some(json!({"problem_code": "BT-03", "title": "Quá hạn"})),
    )
    .await;
    assert_problem(&new_entry, 409, "deadline_passed");

    // One team gets an extension: it may edit and submit on time again; the other may not.
    let ext_at = dxcontest::domain::time::Millis(now_ms() + 3_600_000).rfc3339_utc();
    let bad_ext = api(
        &app,
        Method::PUT,
        &format!("/api/v1/teams/{}/extension", ext_team.id),
        Some(&org),
        Some(json!({"deadline": "2020-01-01T00:00:00Z", "reason": "Mất điện"})),
    )
    .await;
    assert_field(&bad_ext, 400, "deadline");
    let (status, x) = api(
        &app,
        Method::PUT,
        &format!("/api/v1/teams/{}/extension", ext_team.id),
        Some(&org),
        Some(json!({"deadline": ext_at, "reason": "Sự cố mất điện tại trường"})),
    )
    .await;
    assert_eq!(status, 200, "{x}");
    let (status, r) = submit(&app, et, &ext_entry, None).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["late"], false);
    assert_eq!(r["version"], 2);
    let still_closed = submit(&app, lt, &late_entry, None).await;
    assert_problem(&still_closed, 409, "deadline_passed");
    let (status, list) = api(&app, Method::GET, "/api/v1/extensions", Some(&org), None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().expect("list").len(), 1);
    let (status, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/teams/{}/extension", ext_team.id),
        Some(&org),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let revoked = submit(&app, et, &ext_entry, None).await;
    assert_problem(&revoked, 409, "deadline_passed");

    // Every timeline change and extension is audited.
    assert!(
        count_rows(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('timeline.set', 'team.extension.grant', 'team.extension.revoke')"
        )
        .await
            >= 4
    );
}

async fn organizers_move_statuses_and_every_member_is_mailed(backend: Backend) {
    let smtp = TestSmtp::start().await;
    let app = spawn_app_with(backend, &mail_settings(smtp.port(), &[])).await;
    let hash = password_hash().await;
    let org = organizer(&app).await;
    let team = seed_team(&app, "d", &[Lang::Vi, Lang::En], &hash).await;
    let t = &team.members[0].token;
    let a = create_entry(&app, t, "BT-10", "Giải pháp A").await;
    let b = create_entry(&app, t, "BT-11", "Giải pháp B").await;
    for e in [&a, &b] {
        let (status, _) = submit(&app, t, e, None).await;
        assert_eq!(status, 201);
    }
    // Four receipts (two entries × two members) reach the SMTP server.
    smtp.wait_for(4, Duration::from_secs(15)).await;

    // A team cannot judge its own entry.
    let (status, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{a}/status"),
        Some(t),
        Some(json!({"to": "under_review"})),
    )
    .await;
    assert_eq!(status, 403);

    let (status, moved) = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{a}/status"),
        Some(&org),
        Some(json!({"to": "under_review"})),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["status"], "under_review");
    let got = smtp.wait_for(6, Duration::from_secs(15)).await;
    let subjects: Vec<(String, String)> = got[4..]
        .iter()
        .map(|r| (r.to[0].clone(), r.parse().subject()))
        .collect();
    for (to, subject) in &subjects {
        if *to == team.members[1].email {
            assert!(subject.contains("Under review"), "{subject}");
        } else {
            assert!(subject.contains("Đang chấm"), "{subject}");
        }
    }

    // Skipping a step, disqualifying without a reason, awarding without a prize: refused.
    let skip = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{a}/status"),
        Some(&org),
        Some(json!({"to": "awarded", "prize": "Giải Nhất"})),
    )
    .await;
    assert_problem(&skip, 409, "transition_not_allowed");
    let no_reason = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{b}/status"),
        Some(&org),
        Some(json!({"to": "disqualified"})),
    )
    .await;
    assert_field(&no_reason, 400, "reason");

    // A bulk change with one refused change names it and changes nothing.
    let bulk = api(
        &app,
        Method::POST,
        "/api/v1/entries/status-changes",
        Some(&org),
        Some(json!({"changes": [
            {"entry_id": b, "to": "under_review"},
            {"entry_id": a, "to": "finalist"},
        ]})),
    )
    .await;
    assert_problem(&bulk, 409, "transition_not_allowed");
    assert!(
        bulk.1["detail"].as_str().unwrap_or("").contains(a.as_str()),
        "{}",
        bulk.1
    );
    let (_, eb) = api(
        &app,
        Method::GET,
        &format!("/api/v1/entries/{b}"),
        Some(&org),
        None,
    )
    .await;
    assert_eq!(eb["status"], "submitted");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        smtp.received().len(),
        6,
        "a refused bulk change sends no mail"
    );

    // A valid bulk change applies to every entry and mails every member.
    let (status, ok) = api(
        &app,
        Method::POST,
        "/api/v1/entries/status-changes",
        Some(&org),
        Some(json!({"changes": [
            {"entry_id": b, "to": "under_review"},
            {"entry_id": a, "to": "shortlisted"},
        ]})),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["changed"], 2);
    smtp.wait_for(10, Duration::from_secs(15)).await;

    // Disqualify with a reason: the reason reaches the team.
    let (status, dq) = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{b}/status"),
        Some(&org),
        Some(json!({"to": "disqualified", "reason": "Sao chép giải pháp của đội khác"})),
    )
    .await;
    assert_eq!(status, 200, "{dq}");
    assert_eq!(dq["status_reason"], "Sao chép giải pháp của đội khác");
    let got = smtp.wait_for(12, Duration::from_secs(15)).await;
    assert!(
        got[10..]
            .iter()
            .all(|r| r.parse().text.contains("Sao chép giải pháp của đội khác")),
        "the reason is in the mail"
    );
    // Every change is audited.
    assert!(
        count_rows(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'entry.status'"
        )
        .await
            >= 4
    );
}

async fn organizers_list_filter_count_and_export(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let hash = password_hash().await;
    let org = organizer(&app).await;
    for i in 0..3 {
        let team = seed_team(&app, &format!("e{i}"), &[Lang::Vi], &hash).await;
        let t = &team.members[0].token;
        let e = create_entry(&app, t, "BT-20", &format!("=cmd|' /C calc'!A{i}")).await;
        if i < 2 {
            let (status, _) = submit(&app, t, &e, None).await;
            assert_eq!(status, 201);
        }
        if i == 0 {
            let e2 = create_entry(&app, t, "BT-21", "Thứ hai").await;
            submit(&app, t, &e2, None).await;
        }
    }
    let (status, page) = api(&app, Method::GET, "/api/v1/entries", Some(&org), None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 3, "drafts are left out by default");
    let counts: Vec<(String, i64)> = page["per_problem"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                c["problem_code"].as_str().expect("code").to_owned(),
                c["entries"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(counts, [("BT-20".to_owned(), 2), ("BT-21".to_owned(), 1)]);
    let (_, with_drafts) = api(
        &app,
        Method::GET,
        "/api/v1/entries?drafts=true&problem=bt-20",
        Some(&org),
        None,
    )
    .await;
    assert_eq!(with_drafts["total"], 3);
    let (_, by_status) = api(
        &app,
        Method::GET,
        "/api/v1/entries?status=draft&drafts=true",
        Some(&org),
        None,
    )
    .await;
    assert_eq!(by_status["total"], 1);
    let (_, late) = api(
        &app,
        Method::GET,
        "/api/v1/entries?late=true",
        Some(&org),
        None,
    )
    .await;
    assert_eq!(late["total"], 0);
    let bad = api(
        &app,
        Method::GET,
        "/api/v1/entries?status=won",
        Some(&org),
        None,
    )
    .await;
    assert_eq!(bad.0, 400, "{}", bad.1);
    let bad = api(
        &app,
        Method::GET,
        "/api/v1/entries?per_page=0",
        Some(&org),
        None,
    )
    .await;
    assert_field(&bad, 400, "per_page");

    // CSV: a byte-order mark, a header, one row per entry, formulas defused.
    let resp = app
        .client
        .get(app.url("/api/v1/entries/export.csv"))
        .bearer_auth(&org)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    let csv = resp.text().await.expect("text");
    assert!(csv.starts_with('\u{FEFF}'));
    let lines: Vec<&str> = csv.trim_end().lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].contains("entry_id,problem_code,field"));
    assert!(csv.contains("'=cmd"), "{csv}");
    assert!(!csv.contains(",=cmd"), "{csv}");
    // Participants may not list or export.
    let team = seed_team(&app, "e9", &[Lang::Vi], &hash).await;
    let (status, _) = api(
        &app,
        Method::GET,
        "/api/v1/entries",
        Some(&team.members[0].token),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

async fn only_the_team_and_organizers_see_an_entry(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let hash = password_hash().await;
    let org = organizer(&app).await;
    let owner = seed_team(&app, "f1", &[Lang::Vi], &hash).await;
    let other = seed_team(&app, "f2", &[Lang::Vi], &hash).await;
    let t = &owner.members[0].token;
    let o = &other.members[0].token;
    let id = create_entry(&app, t, "BT-30", "Bí mật").await;
    let (status, att) = upload(&app, t, &id, "a.pdf", pdf(100)).await;
    assert_eq!(status, 201);
    let aid = att["id"].as_str().expect("id").to_owned();
    submit(&app, t, &id, None).await;
    make_user(&app, "gk@vien.vn", "Giám khảo", Role::Judge).await;
    let judge = crate::admin::login(&app, "gk@vien.vn").await;

    let paths = [
        format!("/api/v1/entries/{id}"),
        format!("/api/v1/entries/{id}/receipts/1"),
        format!("/api/v1/entries/{id}/attachments/{aid}"),
    ];
    for p in &paths {
        let (status, body) = api(&app, Method::GET, p, Some(o), None).await;
        assert_eq!(status, 404, "{p}: {body}");
        assert!(!body.to_string().contains("Bí mật"));
        let (status, _) = api(&app, Method::GET, p, Some(&judge), None).await;
        assert_eq!(status, 403, "{p}");
        let (status, _) = api(&app, Method::GET, p, None, None).await;
        assert_eq!(status, 401, "{p}");
        let (status, _) = api(&app, Method::GET, p, Some(&org), None).await;
        assert_eq!(status, 200, "{p}");
        let (status, _) = api(&app, Method::GET, p, Some(t), None).await;
        assert_eq!(status, 200, "{p}");
    }
    // A malformed version number is named.
    let (status, body) = api(
        &app,
        Method::GET,
        &format!("/api/v1/entries/{id}/receipts/mot"),
        Some(t),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "version");
    // Another team cannot change it either.
    let (status, _) = submit(&app, o, &id, None).await;
    assert_eq!(status, 404);
    let (status, _) = api(
        &app,
        Method::PUT,
        &format!("/api/v1/entries/{id}"),
        Some(o),
        Some(full_fields("Chiếm")),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api(
        &app,
        Method::POST,
        &format!("/api/v1/entries/{id}/withdraw"),
        Some(o),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // A member without a team has no entries.
    make_user(&app, "le@truong.vn", "Lẻ", Role::Participant).await;
    let lone = crate::admin::login(&app, "le@truong.vn").await;
    let (status, body) = api(&app, Method::GET, "/api/v1/entries/mine", Some(&lone), None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "no_team");
}

/// 200 teams submit at once around the deadline: half in the second before it, half in the
/// second after. Every accepted submit is stored with its file and its receipt mail; every late
/// one is refused with a clear error and leaves nothing.
async fn deadline_rush(backend: Backend) {
    const TEAMS: usize = 200;
    let app = spawn_app_with(
        backend,
        &[
            // Keep the dispatcher out of the way: mail is checked in the outbox.
            ("mail.dispatcher.enabled", json!(false)),
        ],
    )
    .await;
    let hash = password_hash().await;
    let org = organizer(&app).await;
    let problems = ["BT-01", "BT-02", "BT-03", "BT-04", "BT-05"];
    let mut teams = Vec::new();
    for i in 0..TEAMS {
        let team = seed_team(&app, &format!("r{i:03}"), &[Lang::Vi, Lang::En], &hash).await;
        let t = team.members[0].token.clone();
        let entry = create_entry(
            &app,
            &t,
            problems[i % problems.len()],
            &format!("Giải pháp {i}"),
        )
        .await;
        let file = pdf(20_000 + i);
        let (status, _) = upload(&app, &t, &entry, &format!("tep-{i}.pdf"), file.clone()).await;
        assert_eq!(status, 201);
        teams.push((team, entry, sha_hex(&file)));
    }

    // The deadline is three seconds away. Four bursts of 50 concurrent submits fire at
    // 900 ms and 300 ms before it and 300 ms and 900 ms after it.
    let deadline = now_ms() + 3_000;
    let (status, _) = set_timeline(&app, &org, deadline, 0).await;
    assert_eq!(status, 200);
    const BURSTS: [i64; 4] = [-900, -300, 300, 900];
    let base = (tokio::time::Instant::now(), now_ms());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (team, entry, _)) in teams.iter().enumerate() {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/entries/{entry}/submit"));
        let token = team.members[0].token.clone();
        let entry = entry.clone();
        let burst = i % BURSTS.len();
        let wait = u64::try_from(deadline + BURSTS[burst] - base.1).expect("in the future");
        let at = base.0 + Duration::from_millis(wait);
        tasks.spawn(async move {
            tokio::time::sleep_until(at).await;
            let resp = client
                .post(url)
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("rush-{entry}"))
                .send()
                .await
                .expect("submit sent");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("JSON");
            (entry, burst, status, body)
        });
    }
    let mut accepted = HashSet::new();
    let mut refused = HashSet::new();
    let mut outcomes = [(0usize, 0usize); 4];
    while let Some(r) = tasks.join_next().await {
        let (entry, burst, status, body) = r.expect("task");
        if status == 201 {
            outcomes[burst].0 += 1;
        } else {
            outcomes[burst].1 += 1;
        }
        match status {
            201 => {
                assert_eq!(body["version"], 1, "{body}");
                let at = dxcontest::domain::time::Millis::parse_rfc3339(
                    body["submitted_at"].as_str().expect("time"),
                )
                .expect("rfc3339");
                // Whole seconds in RFC 3339 may round down; the stored time is checked below.
                assert!(at.0 <= deadline, "accepted after the deadline: {body}");
                accepted.insert(entry);
            }
            409 => {
                assert_eq!(body["code"], "deadline_passed", "{body}");
                assert!(body["detail"].as_str().is_some_and(|d| d.contains("hạn")));
                refused.insert(entry);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(accepted.len() + refused.len(), TEAMS);
    // Requests are judged when they reach the server, not when the database gets to them: the
    // first burst is all on time however long it queues; the last is all late.
    assert_eq!(
        outcomes[0],
        (TEAMS / 4, 0),
        "(accepted, refused) per burst: {outcomes:?}"
    );
    assert_eq!(
        outcomes[3],
        (0, TEAMS / 4),
        "(accepted, refused) per burst: {outcomes:?}"
    );

    // The database agrees with the answers, and nothing is half-written.
    for (team, entry, sha) in &teams {
        let (status, e) = api(
            &app,
            Method::GET,
            &format!("/api/v1/entries/{entry}"),
            Some(&org),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let versions = e["versions"].as_array().expect("versions");
        if accepted.contains(entry) {
            assert_eq!(e["status"], "submitted", "{e}");
            assert_eq!(versions.len(), 1);
            let at = dxcontest::domain::time::Millis::parse_rfc3339(
                versions[0]["submitted_at"].as_str().expect("time"),
            )
            .expect("time");
            assert!(at.0 <= deadline);
            assert_eq!(e["attachments"][0]["sha256"], sha.as_str());
            // The stored file is whole.
            let aid = e["attachments"][0]["id"].as_str().expect("id");
            let resp = app
                .client
                .get(app.url(&format!("/api/v1/entries/{entry}/attachments/{aid}")))
                .bearer_auth(&team.members[1].token)
                .send()
                .await
                .expect("download");
            assert_eq!(sha_hex(&resp.bytes().await.expect("bytes")), *sha);
        } else {
            assert_eq!(e["status"], "draft", "{e}");
            assert!(versions.is_empty());
        }
    }
    let versions = count_rows(&app, "SELECT COUNT(*) FROM entry_versions").await;
    assert_eq!(versions as usize, accepted.len());
    let frozen = count_rows(&app, "SELECT COUNT(*) FROM attachments WHERE frozen = 1").await;
    assert_eq!(frozen as usize, accepted.len());
    let (_, total) = app
        .store
        .list_outbox(&OutboxFilter {
            kind: Some("entry_receipt".into()),
            limit: 1,
            ..OutboxFilter::default()
        })
        .await
        .expect("outbox");
    assert_eq!(total as usize, accepted.len() * 2, "a receipt per member");
    assert_eq!(stored_files(&app), (TEAMS, 0));
}
