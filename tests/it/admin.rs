//! Organizer tools over the API, with mail delivered to a real SMTP server: judge invitations
//! (new account, existing participant), disabling and re-enabling accounts, the users list, the
//! outbox view with retry, the audit log; and `dxcontest admin create` on the command line.
//!
//! The helpers at the top are public for `authz.rs`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dxcontest::domain::account::Role;
use dxcontest::i18n::Lang;
use dxcontest::service::Ctx;
use dxcontest::service::accounts::{bootstrap_organizer, hash_password};
use dxcontest::store::Store;
use dxcontest::store::accounts::{NewUser, insert_user, user_by_email};
use dxcontest::store::new_id;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, TestDb, repo_path, spawn_app_with, test_config};
use crate::mail::TestSmtp;
use crate::on_both_backends;

on_both_backends!(
    invited_judge_creates_an_account_and_logs_in,
    existing_participant_accepts_and_becomes_judge,
    disabled_account_is_locked_out_at_once_and_told_by_mail,
    users_list_filters_and_pages,
    outbox_lists_filters_and_retries_failed_mail,
    audit_log_filters_newest_first,
    admin_create_on_the_command_line,
);

const WAIT: Duration = Duration::from_secs(15);
pub const PASSWORD: &str = "Ruộng bậc thang Mù Cang Chải 7";
pub const NO_SUCH_ID: &str = "00000000-0000-7000-8000-000000000000";

// ---------------------------------------------------------------------------------------------
// Helpers.

/// SMTP settings pointing the app at `port`, plus a quick dispatcher and `extra`.
pub fn mail_settings(port: u16, extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut v: Vec<(&'static str, Value)> = vec![
        ("mail.transport", "smtp".into()),
        ("mail.smtp.host", "127.0.0.1".into()),
        ("mail.smtp.port", port.into()),
        ("mail.smtp.timeout_secs", 5.into()),
        ("mail.dispatcher.poll_interval_ms", 50.into()),
    ];
    v.extend(extra.iter().cloned());
    v
}

/// An app whose mail goes to a real SMTP server in this process.
pub async fn app_with_smtp(backend: Backend) -> (TestApp, TestSmtp) {
    let smtp = TestSmtp::start().await;
    let app = spawn_app_with(backend, &mail_settings(smtp.port(), &[])).await;
    (app, smtp)
}

/// Sends a request; the body is parsed as JSON when there is one (else `Null`).
pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = app.client.request(method, app.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn get(app: &TestApp, path: &str, bearer: &str) -> (u16, Value) {
    call(app, "GET", path, None, Some(bearer)).await
}

pub async fn post(app: &TestApp, path: &str, body: Value, bearer: Option<&str>) -> (u16, Value) {
    call(app, "POST", path, Some(body), bearer).await
}

/// A verified account made directly in the database (role participant or judge).
pub async fn make_user(app: &TestApp, email: &str, name: &str, role: Role) -> String {
    let id = new_id();
    let hash = hash_password(PASSWORD).await.expect("hash");
    let now = dxcontest::service::now_ms();
    insert_user(
        app.store.pool(),
        &NewUser {
            id: &id,
            email,
            full_name: name,
            organization: "Sở Thông tin và Truyền thông Đà Nẵng",
            phone: None,
            lang: Lang::Vi,
            role,
            password_hash: &hash,
            verified_at: Some(now),
            now,
        },
    )
    .await
    .expect("insert user");
    id
}

/// A context on the app's database, for calling use cases directly.
pub fn ctx_for(app: &TestApp) -> Ctx {
    Ctx::new(
        app.store.clone(),
        std::sync::Arc::new(test_config("sqlite::memory:", &app.dir, &[])),
        std::sync::Arc::new(tokio::sync::Notify::new()),
    )
    .expect("storage folder")
}

/// An organizer made the way `dxcontest admin create` makes one. Returns its id.
pub async fn make_organizer(app: &TestApp, email: &str, name: &str) -> String {
    let (id, created) = bootstrap_organizer(&ctx_for(app), email, name, PASSWORD)
        .await
        .expect("bootstrap organizer");
    assert!(created);
    id
}

/// Logs in and returns the session token.
pub async fn login(app: &TestApp, email: &str) -> String {
    let (status, body) = post(
        app,
        "/api/v1/sessions",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 201, "login {email}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Every message the SMTP server received for `to`, oldest first, parsed.
fn mails_to(smtp: &TestSmtp, to: &str) -> Vec<crate::mail::ParsedMail> {
    smtp.received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .map(|m| m.parse())
        .collect()
}

/// Waits for the `n`th message to `to` and returns it.
async fn wait_mail(smtp: &TestSmtp, to: &str, n: usize) -> crate::mail::ParsedMail {
    let deadline = Instant::now() + WAIT;
    loop {
        let mails = mails_to(smtp, to);
        if mails.len() >= n {
            return mails[n - 1].clone();
        }
        assert!(Instant::now() < deadline, "no message #{n} to {to}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The token of the invitation link in a message.
fn invitation_token(mail: &crate::mail::ParsedMail) -> String {
    let marker = "/judge-invitations/accept?token=";
    let start = mail.text.find(marker).expect("invitation link") + marker.len();
    mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn invite(app: &TestApp, organizer: &str, email: &str) -> (u16, Value) {
    post(
        app,
        "/api/v1/judge-invitations",
        json!({"email": email}),
        Some(organizer),
    )
    .await
}

/// Polls `path` until `done` holds for its body (panics after `WAIT`).
async fn poll(app: &TestApp, path: &str, bearer: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = get(app, path, bearer).await;
        assert_eq!(status, 200, "{path}: {body}");
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} never matched: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn new_judge(token: &str) -> Value {
    json!({
        "token": token, "full_name": "Phạm Minh Đức", "password": PASSWORD,
        "organization": "Viện Công nghệ Thông tin", "phone": "0912345678", "lang": "vi",
    })
}

// ---------------------------------------------------------------------------------------------
// Judge invitations.

async fn invited_judge_creates_an_account_and_logs_in(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;

    let (status, inv) = invite(&app, &org, "Duc.Pham@Vien-CNTT.vn").await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["email"], "duc.pham@vien-cntt.vn");
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["inviter_name"], "Lê Thị Mai");

    let mail = wait_mail(&smtp, "duc.pham@vien-cntt.vn", 1).await;
    assert!(
        mail.subject()
            .starts_with("Thư mời tham gia Hội đồng Giám khảo"),
        "{}",
        mail.subject()
    );
    assert!(mail.text.contains("Lê Thị Mai"), "{}", mail.text);
    let token = invitation_token(&mail);
    assert!(token.len() >= 40, "{token}");

    // What the accept page learns from the link.
    let (status, info) = post(
        &app,
        "/api/v1/judge-invitations/info",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["valid"], true);
    assert_eq!(info["email"], "duc.pham@vien-cntt.vn");
    assert_eq!(info["account_exists"], false);
    let (_, unknown) = post(
        &app,
        "/api/v1/judge-invitations/info",
        json!({"token": "nope"}),
        None,
    )
    .await;
    assert_eq!(unknown["valid"], false);
    assert!(unknown.get("email").is_none());

    // Bad input names its fields and uses nothing.
    let mut bad = new_judge(&token);
    bad["password"] = json!("short");
    bad["full_name"] = json!("");
    let (status, body) = post(&app, "/api/v1/judge-invitations/accept-new", bad, None).await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"password") && fields.contains(&"full_name"),
        "{body}"
    );

    let (status, account) = post(
        &app,
        "/api/v1/judge-invitations/accept-new",
        new_judge(&token),
        None,
    )
    .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["role"], "judge");
    assert_eq!(account["email"], "duc.pham@vien-cntt.vn");
    assert_eq!(account["email_verified"], true);

    // The link works once.
    let (status, body) = post(
        &app,
        "/api/v1/judge-invitations/accept-new",
        new_judge(&token),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "token_invalid");

    // The new judge logs in.
    let judge = login(&app, "duc.pham@vien-cntt.vn").await;
    let (status, me) = get(&app, "/api/v1/me", &judge).await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "judge");
    assert_eq!(me["full_name"], "Phạm Minh Đức");

    // The organizers' list shows it accepted, by whom.
    let (status, list) = get(&app, "/api/v1/judge-invitations", &org).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!(item["status"], "accepted");
    assert_eq!(item["accepted_by"], account["id"]);
    assert_eq!(item["accepted_by_name"], "Phạm Minh Đức");
    let (_, pending) = get(&app, "/api/v1/judge-invitations?status=pending", &org).await;
    assert_eq!(pending["total"], 0);

    // Judges and organizers cannot be invited.
    let (status, body) = invite(&app, &org, "duc.pham@vien-cntt.vn").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_judge"))
    );
    let (status, body) = invite(&app, &org, "btc@dx.gov.vn").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_organizer"))
    );
    let (status, body) = invite(&app, &org, "not an address").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("email")));
    // Only organizers invite.
    let (status, body) = invite(&app, &judge, "someone@example.vn").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
}

async fn existing_participant_accepts_and_becomes_judge(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;
    let lan_id = make_user(&app, "lan@hust.edu.vn", "Nguyễn Thị Lan", Role::Participant).await;
    make_user(
        &app,
        "other@hust.edu.vn",
        "Trần Văn Khoa",
        Role::Participant,
    )
    .await;
    let lan = login(&app, "lan@hust.edu.vn").await;
    let other = login(&app, "other@hust.edu.vn").await;

    // A second invitation replaces the first.
    assert_eq!(invite(&app, &org, "lan@hust.edu.vn").await.0, 201);
    let first = invitation_token(&wait_mail(&smtp, "lan@hust.edu.vn", 1).await);
    assert_eq!(invite(&app, &org, "lan@hust.edu.vn").await.0, 201);
    let second = invitation_token(&wait_mail(&smtp, "lan@hust.edu.vn", 2).await);
    assert_ne!(first, second);
    let (_, list) = get(&app, "/api/v1/judge-invitations", &org).await;
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert_eq!(statuses, ["pending", "replaced"], "{list}");
    let (status, body) = post(
        &app,
        "/api/v1/judge-invitations/accept",
        json!({"token": first}),
        Some(&lan),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );

    let (_, info) = post(
        &app,
        "/api/v1/judge-invitations/info",
        json!({"token": second}),
        None,
    )
    .await;
    assert_eq!(
        (info["valid"].as_bool(), info["account_exists"].as_bool()),
        (Some(true), Some(true))
    );

    // The address has an account: creating another is refused.
    let (status, body) = post(
        &app,
        "/api/v1/judge-invitations/accept-new",
        new_judge(&second),
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("email_taken")));
    // Someone else cannot take it.
    let (status, body) = post(
        &app,
        "/api/v1/judge-invitations/accept",
        json!({"token": second}),
        Some(&other),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("invitation_email_mismatch"))
    );
    // Anonymous callers must log in.
    let (status, _) = post(
        &app,
        "/api/v1/judge-invitations/accept",
        json!({"token": second}),
        None,
    )
    .await;
    assert_eq!(status, 401);

    let (status, account) = post(
        &app,
        "/api/v1/judge-invitations/accept",
        json!({"token": second}),
        Some(&lan),
    )
    .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["role"], "judge");
    assert_eq!(account["id"], lan_id.as_str());
    // The same session now acts as a judge.
    let (_, me) = get(&app, "/api/v1/me", &lan).await;
    assert_eq!(me["role"], "judge");

    // Recorded with the state before.
    let (_, audit) = get(
        &app,
        &format!("/api/v1/audit?action=judge.accept_invitation&subject={lan_id}"),
        &org,
    )
    .await;
    assert_eq!(audit["total"], 1, "{audit}");
    assert_eq!(audit["items"][0]["before"]["role"], "participant");
    assert_eq!(audit["items"][0]["after"]["role"], "judge");
    assert_eq!(audit["items"][0]["actor_id"], lan_id.as_str());
    let (_, invites) = get(&app, "/api/v1/audit?action=judge.invite", &org).await;
    assert_eq!(invites["total"], 2);
    assert_eq!(
        invites["items"][0]["before"]["pending_invitations_replaced"],
        1
    );
    assert_eq!(
        invites["items"][0]["before"]["account"]["role"],
        "participant"
    );
    assert_eq!(invites["items"][0]["actor_email"], "btc@dx.gov.vn");
    assert_eq!(invites["items"][0]["ip"], "127.0.0.1");

    // A team member cannot become a judge (it would judge its own team's entry).
    let member_id = make_user(&app, "member@hust.edu.vn", "Võ Thị Hoa", Role::Participant).await;
    let now = dxcontest::service::now_ms();
    sqlx::query(
        "INSERT INTO teams (id, name, name_key, kind, province, organization, leader_id, \
         created_at, updated_at) VALUES ($1, 'Sao Mai', 'sao mai', 'student', 'Hà Nội', 'HUST', \
         $2, $3, $3)",
    )
    .bind(new_id())
    .bind(&member_id)
    .bind(now)
    .execute(app.store.pool())
    .await
    .expect("team");
    sqlx::query(
        "INSERT INTO team_members (team_id, user_id, joined_at) \
         SELECT id, $1, $2 FROM teams WHERE leader_id = $1",
    )
    .bind(&member_id)
    .bind(now)
    .execute(app.store.pool())
    .await
    .expect("member");
    let member = login(&app, "member@hust.edu.vn").await;
    assert_eq!(invite(&app, &org, "member@hust.edu.vn").await.0, 201);
    let token = invitation_token(&wait_mail(&smtp, "member@hust.edu.vn", 1).await);
    let (status, body) = post(
        &app,
        "/api/v1/judge-invitations/accept",
        json!({"token": token}),
        Some(&member),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_in_team"))
    );
    let (_, me) = get(&app, "/api/v1/me", &member).await;
    assert_eq!(me["role"], "participant");
}

// ---------------------------------------------------------------------------------------------
// Users.

async fn disabled_account_is_locked_out_at_once_and_told_by_mail(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let org_id = make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;
    let an_id = make_user(&app, "an@example.vn", "Lê Văn An", Role::Participant).await;
    let an = login(&app, "an@example.vn").await;
    let an_again = login(&app, "an@example.vn").await;
    assert_eq!(get(&app, "/api/v1/me", &an).await.0, 200);

    let (status, body) = post(
        &app,
        &format!("/api/v1/users/{an_id}/disable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);

    // Every session of the account stops working at once.
    for token in [&an, &an_again] {
        let (status, body) = get(&app, "/api/v1/me", token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthenticated"))
        );
    }
    let (status, body) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "an@example.vn", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("account_disabled"))
    );
    let mail = wait_mail(&smtp, "an@example.vn", 1).await;
    assert!(
        mail.subject().starts_with("Tài khoản đã bị vô hiệu hóa"),
        "{}",
        mail.subject()
    );
    assert!(mail.text.contains("Lê Văn An"), "{}", mail.text);

    // Disabling again changes nothing and sends nothing.
    let (status, _) = post(
        &app,
        &format!("/api/v1/users/{an_id}/disable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = post(
        &app,
        &format!("/api/v1/users/{an_id}/enable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], false);
    let an = login(&app, "an@example.vn").await;
    assert_eq!(get(&app, "/api/v1/me", &an).await.0, 200);

    // Organizers cannot lock themselves out; unknown accounts are 404.
    let (status, body) = post(
        &app,
        &format!("/api/v1/users/{org_id}/disable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("cannot_disable_self"))
    );
    assert_eq!(get(&app, "/api/v1/me", &org).await.0, 200);
    let (status, _) = post(
        &app,
        &format!("/api/v1/users/{NO_SUCH_ID}/disable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 404);
    // A participant cannot disable anyone.
    let (status, body) = post(
        &app,
        &format!("/api/v1/users/{org_id}/disable"),
        json!({}),
        Some(&an),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // The audit log has both changes, newest first, with actor, IP and the state before.
    let (status, audit) = get(&app, &format!("/api/v1/audit?subject={an_id}"), &org).await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["action"].as_str())
        .collect();
    assert_eq!(actions, ["user.enable", "user.disable"], "{audit}");
    let disable = &audit["items"][1];
    assert_eq!(disable["actor_id"], org_id.as_str());
    assert_eq!(disable["actor_email"], "btc@dx.gov.vn");
    assert_eq!(disable["actor_name"], "Lê Thị Mai");
    assert_eq!(disable["ip"], "127.0.0.1");
    assert_eq!(disable["subject_type"], "user");
    assert_eq!(disable["before"]["disabled"], false);
    assert_eq!(disable["before"]["email"], "an@example.vn");
    assert_eq!(disable["after"]["sessions_ended"], 2);
    assert_eq!(audit["items"][0]["before"]["disabled"], true);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails_to(&smtp, "an@example.vn").len(), 1, "one mail");
}

async fn users_list_filters_and_pages(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;
    for i in 0..5 {
        make_user(
            &app,
            &format!("sv{i}@hust.edu.vn"),
            &format!("Sinh viên {i}"),
            Role::Participant,
        )
        .await;
    }
    make_user(&app, "gk@ptit.edu.vn", "Đỗ Giám Khảo", Role::Judge).await;

    let (status, all) = get(&app, "/api/v1/users", &org).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        (all["total"].as_i64(), all["page"].as_i64()),
        (Some(7), Some(1))
    );
    assert!(all["items"][0].get("password_hash").is_none());

    let (_, judges) = get(&app, "/api/v1/users?role=judge", &org).await;
    assert_eq!(judges["total"], 1);
    assert_eq!(judges["items"][0]["email"], "gk@ptit.edu.vn");

    let (_, found) = get(&app, "/api/v1/users?q=HUST.edu", &org).await;
    assert_eq!(found["total"], 5);
    let (_, found) = get(&app, "/api/v1/users?q=giám&role=judge", &org).await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, none) = get(&app, "/api/v1/users?q=giám&role=participant", &org).await;
    assert_eq!(none["total"], 0);

    let (_, p2) = get(&app, "/api/v1/users?per_page=3&page=3", &org).await;
    assert_eq!(p2["total"], 7);
    assert_eq!(p2["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (p2["page"].as_i64(), p2["per_page"].as_i64()),
        (Some(3), Some(3))
    );

    let (status, body) = get(&app, "/api/v1/users?per_page=0", &org).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("per_page")));
    let (status, body) = get(&app, "/api/v1/users?role=king", &org).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("role")));
}

// ---------------------------------------------------------------------------------------------
// Outbox and audit log.

async fn outbox_lists_filters_and_retries_failed_mail(backend: Backend) {
    // The SMTP server is down and one attempt is all a message gets.
    let smtp = TestSmtp::start().await;
    smtp.stop().await;
    let settings = mail_settings(smtp.port(), &[("mail.dispatcher.max_attempts", 1.into())]);
    let app = spawn_app_with(backend, &settings).await;
    make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;
    assert_eq!(invite(&app, &org, "judge.one@example.vn").await.0, 201);
    let an_id = make_user(&app, "an@example.vn", "Lê Văn An", Role::Participant).await;
    let (status, _) = post(
        &app,
        &format!("/api/v1/users/{an_id}/disable"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 200);

    let failed = poll(&app, "/api/v1/outbox?status=failed", &org, |b| {
        b["total"] == 2
    })
    .await;
    assert_eq!(failed["counts"]["failed"], 2, "{failed}");
    assert_eq!(failed["counts"]["total"], 2);
    let newest = &failed["items"][0];
    assert_eq!(newest["kind"], "account_disabled");
    assert_eq!(newest["to_email"], "an@example.vn");
    assert_eq!(newest["to_user_id"], an_id.as_str());
    assert_eq!(newest["attempts"], 1);
    assert!(
        newest["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{newest}"
    );

    // Filters: recipient text (any case), kind, status.
    let (_, by_rcpt) = get(&app, "/api/v1/outbox?q=JUDGE.ONE", &org).await;
    assert_eq!(by_rcpt["total"], 1);
    assert_eq!(by_rcpt["items"][0]["kind"], "judge_invitation");
    let invitation_id = by_rcpt["items"][0]["id"].as_str().expect("id").to_owned();
    let (_, by_kind) = get(&app, "/api/v1/outbox?kind=account_disabled", &org).await;
    assert_eq!(by_kind["total"], 1);
    let (_, sent) = get(&app, "/api/v1/outbox?status=sent", &org).await;
    assert_eq!(sent["total"], 0);
    let (_, paged) = get(&app, "/api/v1/outbox?per_page=1&page=2", &org).await;
    assert_eq!(paged["items"][0]["kind"], "judge_invitation");
    let (status, body) = get(&app, "/api/v1/outbox?status=lost", &org).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("status")));

    // The server comes back; a retry sends the message.
    smtp.restart().await;
    let (status, body) = post(
        &app,
        &format!("/api/v1/outbox/{invitation_id}/retry"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let mail = wait_mail(&smtp, "judge.one@example.vn", 1).await;
    assert!(mail.text.contains("/judge-invitations/accept?token="));
    let after = poll(&app, "/api/v1/outbox?q=judge.one", &org, |b| {
        b["items"][0]["status"] == "sent"
    })
    .await;
    assert_eq!(after["counts"]["sent"], 1);
    assert_eq!(after["counts"]["failed"], 1);

    // Only failed messages can be retried; unknown ones are 404.
    let (status, body) = post(
        &app,
        &format!("/api/v1/outbox/{invitation_id}/retry"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_failed")));
    let (status, _) = post(
        &app,
        &format!("/api/v1/outbox/{NO_SUCH_ID}/retry"),
        json!({}),
        Some(&org),
    )
    .await;
    assert_eq!(status, 404);

    // The retry is audited with the message's state before.
    let (_, audit) = get(&app, "/api/v1/audit?action=mail.retry", &org).await;
    assert_eq!(audit["total"], 1, "{audit}");
    let entry = &audit["items"][0];
    assert_eq!(entry["subject_id"], invitation_id.as_str());
    assert_eq!(entry["before"]["status"], "failed");
    assert_eq!(entry["before"]["attempts"], 1);
    assert_eq!(entry["before"]["to"], "judge.one@example.vn");
    assert_eq!(entry["actor_email"], "btc@dx.gov.vn");
}

async fn audit_log_filters_newest_first(backend: Backend) {
    let app = spawn_app_with(backend, &[]).await;
    let org_id = make_organizer(&app, "btc@dx.gov.vn", "Lê Thị Mai").await;
    let org = login(&app, "btc@dx.gov.vn").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = make_user(
            &app,
            &format!("u{i}@example.vn"),
            "Người dùng",
            Role::Participant,
        )
        .await;
        let path = format!("/api/v1/users/{id}/disable");
        assert_eq!(post(&app, &path, json!({}), Some(&org)).await.0, 200);
        ids.push(id);
    }

    let (status, all) = get(&app, "/api/v1/audit", &org).await;
    assert_eq!(status, 200, "{all}");
    // The organizer's creation (by the command line: no actor) and three disables.
    assert_eq!(all["total"], 4, "{all}");
    let items = all["items"].as_array().expect("items");
    let subjects: Vec<&str> = items
        .iter()
        .filter_map(|i| i["subject_id"].as_str())
        .collect();
    assert_eq!(subjects, [ids[2].as_str(), &ids[1], &ids[0], &org_id]);
    assert_eq!(items[3]["action"], "account.create_organizer");
    assert!(items[3].get("actor_id").is_none());

    let (_, by_actor) = get(&app, &format!("/api/v1/audit?actor={org_id}"), &org).await;
    assert_eq!(by_actor["total"], 3);
    let (_, by_email) = get(&app, "/api/v1/audit?actor=BTC@dx.gov.vn", &org).await;
    assert_eq!(by_email["total"], 3);
    let (_, nobody) = get(&app, "/api/v1/audit?actor=nobody@dx.gov.vn", &org).await;
    assert_eq!(nobody["total"], 0);
    let (_, by_action) = get(&app, "/api/v1/audit?action=user.disable&per_page=2", &org).await;
    assert_eq!(by_action["total"], 3);
    assert_eq!(by_action["items"].as_array().map(Vec::len), Some(2));
    let (_, page2) = get(
        &app,
        "/api/v1/audit?action=user.disable&per_page=2&page=2",
        &org,
    )
    .await;
    assert_eq!(page2["items"][0]["subject_id"], ids[0].as_str());
    let (_, one) = get(&app, &format!("/api/v1/audit?subject={}", ids[1]), &org).await;
    assert_eq!(one["total"], 1);
    assert_eq!(one["items"][0]["before"]["role"], "participant");
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn dxcontest(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dxcontest"));
    for (k, _) in std::env::vars() {
        if k.starts_with("DXCONTEST_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("DXCONTEST_DATABASE__URL", db_url)
        .env("DXCONTEST_LOG__FILTER", "warn")
        .current_dir(repo_path(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `admin create` with `stdin`; returns the exit code, stdout and stderr.
async fn admin_create(db_url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut cmd = dxcontest(db_url);
    cmd.args(["admin", "create"]).args(args);
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = cmd.spawn().expect("binary runs");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("binary ends");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

async fn admin_create_on_the_command_line(backend: Backend) {
    let db = TestDb::new(backend).await;
    let password = format!("{PASSWORD}\n");

    // A bad password is refused with the rule, and nothing is created.
    let (code, _, err) = admin_create(&db.url, &["--email", "boss@dx.gov.vn"], "short\n").await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("password") && err.contains("10"), "{err}");
    let (code, _, err) = admin_create(&db.url, &["--email", "not-an-address"], &password).await;
    assert_eq!(code, 1);
    assert!(err.contains("--email"), "{err}");

    let (code, out, err) = admin_create(
        &db.url,
        &["--email", "Boss@DX.gov.vn", "--name", "Trần Thị Quản"],
        &password,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created organizer boss@dx.gov.vn"), "{out}");

    let config = test_config(&db.url, &tempfile::tempdir().expect("dir"), &[]);
    let store = Store::connect(&config.database).await.expect("connect");
    let boss = user_by_email(store.pool(), "boss@dx.gov.vn")
        .await
        .expect("query")
        .expect("created");
    assert_eq!(boss.role, Role::Organizer);
    assert_eq!(boss.full_name, "Trần Thị Quản");
    assert!(boss.email_verified_at.is_some());
    let ok = dxcontest::service::accounts::verify_password(PASSWORD, Some(&boss.password_hash))
        .await
        .expect("verify");
    assert!(ok, "the password from stdin was set");

    // An existing participant is promoted; its password stays; no password is read.
    let id = new_id();
    let now = dxcontest::service::now_ms();
    insert_user(
        store.pool(),
        &NewUser {
            id: &id,
            email: "lan@hust.edu.vn",
            full_name: "Nguyễn Thị Lan",
            organization: "HUST",
            phone: None,
            lang: Lang::Vi,
            role: Role::Participant,
            password_hash: &boss.password_hash,
            verified_at: None,
            now,
        },
    )
    .await
    .expect("insert");
    let (code, out, err) = admin_create(&db.url, &["--email", "lan@hust.edu.vn"], "").await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("now an organizer") && out.contains(&id),
        "{out}"
    );
    let lan = user_by_email(store.pool(), "lan@hust.edu.vn")
        .await
        .expect("query")
        .expect("exists");
    assert_eq!(lan.role, Role::Organizer);
    assert!(lan.email_verified_at.is_some());
    assert_eq!(lan.password_hash, boss.password_hash);
    assert_eq!(lan.full_name, "Nguyễn Thị Lan");
    store.close().await;
}
