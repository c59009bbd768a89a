//! Teams end to end over HTTP: create with a name unique without regard to case or accents,
//! invite by email (delivered to a real SMTP server in this process), accept as an existing or a
//! new account, size limits (also under racing accepts), leave, remove, hand over, who sees what,
//! and refused tokens.
//!
//! `verified_user`, `register`, `login` and `api` are public for other test files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dxcontest::domain::account::Role;
use dxcontest::mail::OutboxFilter;
use dxcontest::service::{Ctx, ServiceError, accounts, now_ms, teams};
use dxcontest::store::accounts::{AuditFilter, list_audit};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, spawn_app, spawn_app_with, test_config};
use crate::mail::TestSmtp;
use crate::on_both_backends;

on_both_backends!(
    unverified_user_cannot_create_a_team,
    create_team_and_names_unique_without_case_or_accents,
    invite_by_email_and_accept_as_existing_user,
    accept_with_new_account_creates_it_and_joins,
    a_person_is_in_at_most_one_team,
    size_limit_counts_pending_invitations,
    racing_accepts_do_not_exceed_max_size,
    leave_remove_and_hand_over,
    members_see_names_leader_and_organizers_see_emails,
    reused_expired_and_revoked_tokens_are_refused,
    unique_violations_are_told_apart,
);

/// A password the checks accept.
pub const PASSWORD: &str = "Ruộng bậc thang Mù Cang Chải 7";

const WAIT: Duration = Duration::from_secs(15);
const ACCEPT_PATH: &str = "/team-invitations/accept?token=";

// ---------------------------------------------------------------------------------------------
// Helpers, public for other test files.

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    /// The session token (`Authorization: Bearer`).
    pub token: String,
}

/// Sends a JSON request, with a session token when given; returns the status and the JSON body
/// (`Null` when there is none).
pub async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Registers a participant (not verified yet) through the API.
pub async fn register(app: &TestApp, email: &str, full_name: &str, lang: &str) {
    let (status, body) = api(
        app,
        Method::POST,
        "/api/v1/accounts",
        None,
        Some(json!({
            "email": email, "full_name": full_name, "password": PASSWORD,
            "organization": "Đại học Bách khoa Hà Nội", "lang": lang,
        })),
    )
    .await;
    assert_eq!(status, 202, "register {email}: {body}");
}

/// Logs in with `PASSWORD`.
pub async fn login(app: &TestApp, email: &str) -> TestUser {
    let (status, body) = api(
        app,
        Method::POST,
        "/api/v1/sessions",
        None,
        Some(json!({"email": email, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "login {email}: {body}");
    TestUser {
        id: body["account"]["id"].as_str().expect("id").to_owned(),
        email: email.to_owned(),
        token: body["token"].as_str().expect("token").to_owned(),
    }
}

/// The token of a link in the newest message of `kind` to `email`, read from the outbox (so it
/// works whatever the mail transport).
pub async fn token_from_outbox(app: &TestApp, email: &str, kind: &str, path: &str) -> String {
    let (rows, _) = app
        .store
        .list_outbox(&OutboxFilter {
            recipient: Some(email.to_owned()),
            kind: Some(kind.to_owned()),
            limit: 1,
            ..OutboxFilter::default()
        })
        .await
        .expect("outbox");
    let row = rows.first().expect("a message in the outbox");
    token_after(&row.text, path).expect("a link in the message")
}

/// The token that follows `path` (which ends in `token=`) in a message's text.
pub fn token_after(text: &str, path: &str) -> Option<String> {
    let start = text.find(path)? + path.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Registers a participant, verifies the address with the emailed link and logs in.
pub async fn verified_user(app: &TestApp, email: &str, full_name: &str) -> TestUser {
    verified_user_in(app, email, full_name, "vi").await
}

/// `verified_user` with the account's language (`vi` or `en`).
pub async fn verified_user_in(app: &TestApp, email: &str, full_name: &str, lang: &str) -> TestUser {
    register(app, email, full_name, lang).await;
    let token = token_from_outbox(app, email, "verify_email", "/verify?token=").await;
    let (status, body) = api(
        app,
        Method::POST,
        "/api/v1/accounts/verify",
        None,
        Some(json!({ "token": token })),
    )
    .await;
    assert_eq!(status, 200, "verify {email}: {body}");
    assert_eq!(body["email_verified"], true);
    login(app, email).await
}

// ---------------------------------------------------------------------------------------------
// Helpers for this file.

/// An app whose mail goes to `smtp`, with rate limits high enough for many accounts from one
/// address, plus `extra` settings.
async fn app_with_smtp(backend: Backend, smtp: &TestSmtp, extra: &[(&str, Value)]) -> TestApp {
    let mut settings = vec![
        ("mail.transport", json!("smtp")),
        ("mail.smtp.host", json!("127.0.0.1")),
        ("mail.smtp.port", json!(smtp.port())),
        ("mail.smtp.timeout_secs", json!(5)),
        ("mail.dispatcher.poll_interval_ms", json!(50)),
    ];
    settings.extend(relaxed_limits());
    settings.extend(extra.iter().cloned());
    spawn_app_with(backend, &settings).await
}

fn relaxed_limits() -> Vec<(&'static str, Value)> {
    vec![
        ("rate_limits.register_per_ip", json!(1000)),
        ("rate_limits.login_per_ip", json!(1000)),
    ]
}

async fn app(backend: Backend, extra: &[(&str, Value)]) -> TestApp {
    let mut settings = relaxed_limits();
    settings.extend(extra.iter().cloned());
    spawn_app_with(backend, &settings).await
}

/// A service context over the app's database with its own settings (for calling use cases
/// directly, e.g. to race them).
fn ctx_for(app: &TestApp, overrides: &[(&str, Value)]) -> Ctx {
    let config = test_config("sqlite://unused.db", &app.dir, overrides);
    Ctx::new(
        app.store.clone(),
        Arc::new(config),
        Arc::new(tokio::sync::Notify::new()),
    )
    .expect("storage folder")
}

fn team_body(name: &str) -> Value {
    json!({
        "name": name, "kind": "student", "province": "Hà Nội",
        "organization": "Đại học Quốc gia Hà Nội",
    })
}

/// Creates a team; returns its id.
async fn create_team(app: &TestApp, leader: &TestUser, name: &str) -> String {
    let (status, body) = api(
        app,
        Method::POST,
        "/api/v1/teams",
        Some(&leader.token),
        Some(team_body(name)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("team id").to_owned()
}

/// Invites `email`; returns the invitation's id.
async fn invite(app: &TestApp, leader: &TestUser, team_id: &str, email: &str) -> String {
    let (status, body) = invite_raw(app, leader, team_id, email).await;
    assert_eq!(status, 201, "invite {email}: {body}");
    assert_eq!(body["email"], email.to_lowercase().as_str());
    body["id"].as_str().expect("invitation id").to_owned()
}

async fn invite_raw(app: &TestApp, leader: &TestUser, team_id: &str, email: &str) -> (u16, Value) {
    api(
        app,
        Method::POST,
        &format!("/api/v1/teams/{team_id}/invitations"),
        Some(&leader.token),
        Some(json!({ "email": email })),
    )
    .await
}

/// The invitation token last put in the outbox for `email`.
async fn invitation_token(app: &TestApp, email: &str) -> String {
    token_from_outbox(app, email, "team_invitation", ACCEPT_PATH).await
}

async fn accept(app: &TestApp, user: &TestUser, token: &str) -> (u16, Value) {
    api(
        app,
        Method::POST,
        "/api/v1/team-invitations/accept",
        Some(&user.token),
        Some(json!({ "token": token })),
    )
    .await
}

/// Invites `user` and has them accept; returns the team as they see it.
async fn join(app: &TestApp, leader: &TestUser, team_id: &str, user: &TestUser) -> Value {
    invite(app, leader, team_id, &user.email).await;
    let token = invitation_token(app, &user.email).await;
    let (status, body) = accept(app, user, &token).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn get_team(app: &TestApp, user: &TestUser, team_id: &str) -> (u16, Value) {
    api(
        app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}"),
        Some(&user.token),
        None,
    )
    .await
}

async fn remove(app: &TestApp, user: &TestUser, team_id: &str, member: &str) -> (u16, Value) {
    api(
        app,
        Method::DELETE,
        &format!("/api/v1/teams/{team_id}/members/{member}"),
        Some(&user.token),
        None,
    )
    .await
}

async fn hand_over(app: &TestApp, user: &TestUser, team_id: &str, to: &str) -> (u16, Value) {
    api(
        app,
        Method::POST,
        &format!("/api/v1/teams/{team_id}/leader"),
        Some(&user.token),
        Some(json!({ "user_id": to })),
    )
    .await
}

fn member_names(team: &Value) -> Vec<String> {
    team["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["full_name"].as_str().expect("name").to_owned())
        .collect()
}

fn member_emails(team: &Value) -> Vec<Option<String>> {
    team["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["email"].as_str().map(str::to_owned))
        .collect()
}

fn assert_conflict(got: &(u16, Value), code: &str) {
    assert_eq!(got.0, 409, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
}

/// Waits for a team invitation to `to` at the SMTP server; returns its parsed text and subject.
async fn wait_invitation_mail(smtp: &TestSmtp, to: &str) -> (String, String) {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = smtp.received().into_iter().rev().find_map(|r| {
            let mail = r.parse();
            (r.to == vec![to.to_owned()] && mail.text.contains(ACCEPT_PATH))
                .then(|| (mail.text.clone(), mail.subject()))
        });
        if let Some(found) = found {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no invitation to {to} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn team_actions(app: &TestApp, team_id: &str) -> Vec<(String, bool, bool)> {
    let (entries, _) = list_audit(
        app.store.pool(),
        &AuditFilter {
            subject_id: Some(team_id.to_owned()),
            limit: 100,
            ..AuditFilter::default()
        },
    )
    .await
    .expect("audit");
    entries
        .into_iter()
        .rev()
        .map(|e| (e.action, e.before.is_some(), e.after.is_some()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests.

async fn unverified_user_cannot_create_a_team(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "chua.xac.nhan@example.vn", "Lý Chưa Xác Nhận", "vi").await;
    let user = login(&app, "chua.xac.nhan@example.vn").await;
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&user.token),
        Some(team_body("Đội Chưa Xác Nhận")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "email_not_verified");
    let (status, _) = api(
        &app,
        Method::GET,
        "/api/v1/teams/mine",
        Some(&user.token),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        None,
        Some(team_body("Đội Ẩn Danh")),
    )
    .await;
    assert_eq!(status, 401);
}

async fn create_team_and_names_unique_without_case_or_accents(backend: Backend) {
    let app = app(backend, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&an.token),
        Some(json!({
            "name": "  Đội   Sao Việt ", "kind": "research_institute",
            "province": "tp. ho chi minh", "organization": "Viện Công nghệ Thông tin",
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "Đội Sao Việt");
    assert_eq!(body["kind"], "research_institute");
    assert_eq!(body["kind_name"], "Viện, trường, tổ chức nghiên cứu");
    assert_eq!(body["province"], "Hồ Chí Minh");
    assert_eq!(body["leader_id"], an.id.as_str());
    assert_eq!(body["emails_visible"], true);
    assert_eq!(body["pending_invitations"], 0);
    assert_eq!(
        (body["min_size"].as_u64(), body["max_size"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(body["complete"], true);
    assert_eq!(member_names(&body), ["Nguyễn Văn An"]);
    assert_eq!(member_emails(&body), [Some("an@example.vn".to_owned())]);
    assert_eq!(body["members"][0]["leader"], true);
    let team_id = body["id"].as_str().expect("id").to_owned();

    let (status, mine) = api(
        &app,
        Method::GET,
        "/api/v1/teams/mine",
        Some(&an.token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(mine["id"], team_id.as_str());

    // The same name in other case, accents and spacing.
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    for name in ["doi sao viet", "ĐỘI SAO  VIỆT", "Doi Sao Viet"] {
        let got = api(
            &app,
            Method::POST,
            "/api/v1/teams",
            Some(&binh.token),
            Some(team_body(name)),
        )
        .await;
        assert_conflict(&got, "team_name_taken");
        assert_eq!(got.1["field"], "name");
    }
    // Every invalid field is reported at once.
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&binh.token),
        Some(json!({"name": "x", "kind": "club", "province": "Hà Tây", "organization": " "})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_input");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "kind", "province", "organization"]);
    let (status, _) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&binh.token),
        Some(team_body(&"Đ".repeat(81))),
    )
    .await;
    assert_eq!(status, 400);
    create_team(&app, &binh, "Đội Sao Mai").await;

    // The leader cannot found a second team.
    let got = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&an.token),
        Some(team_body("Đội Thứ Hai")),
    )
    .await;
    assert_conflict(&got, "already_in_team");

    // Two people racing for one name: one gets it.
    let chi = verified_user(&app, "chi@example.vn", "Phạm Minh Chi").await;
    let dung = verified_user(&app, "dung@example.vn", "Lê Văn Dũng").await;
    let (a, b) = tokio::join!(
        api(
            &app,
            Method::POST,
            "/api/v1/teams",
            Some(&chi.token),
            Some(team_body("Đội Đua Tên"))
        ),
        api(
            &app,
            Method::POST,
            "/api/v1/teams",
            Some(&dung.token),
            Some(team_body("doi dua ten"))
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.1, b.1);
    let loser = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(loser["code"], "team_name_taken");

    // The lists a form needs.
    let (status, provinces) = api(&app, Method::GET, "/api/v1/provinces", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(provinces.as_array().map(Vec::len), Some(63));
    let (status, kinds) = api(&app, Method::GET, "/api/v1/team-kinds", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(kinds.as_array().map(Vec::len), Some(7));
    assert_eq!(
        team_actions(&app, &team_id).await,
        [("team.create".to_owned(), false, true)]
    );
}

async fn invite_by_email_and_accept_as_existing_user(backend: Backend) {
    let smtp = TestSmtp::start().await;
    let app = app_with_smtp(backend, &smtp, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let jane = verified_user_in(&app, "jane@example.com", "Jane Doe", "en").await;
    let team_id = create_team(&app, &an, "Đội Sao Việt").await;

    // The mail reaches the SMTP server, in the recipient's language, with a link.
    let invitation_id = invite(&app, &an, &team_id, "Jane@Example.com").await;
    let (text, subject) = wait_invitation_mail(&smtp, "jane@example.com").await;
    assert!(
        subject.starts_with("Invitation to join the team “Đội Sao Việt”"),
        "{subject}"
    );
    assert!(text.contains("Nguyễn Văn An invites you"), "{text}");
    let token = token_after(&text, ACCEPT_PATH).expect("link");
    assert!(text.contains(&format!("http://127.0.0.1:8080{ACCEPT_PATH}{token}")));

    // The leader sees it pending.
    let (status, pending) = api(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}/invitations"),
        Some(&an.token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(pending[0]["id"], invitation_id.as_str());
    assert_eq!(pending[0]["email"], "jane@example.com");

    // Someone else cannot use it, and trying does not use it up.
    let chi = verified_user(&app, "chi@example.vn", "Phạm Minh Chi").await;
    assert_conflict(
        &accept(&app, &chi, &token).await,
        "invitation_email_mismatch",
    );

    let (status, team) = accept(&app, &jane, &token).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["id"], team_id.as_str());
    assert_eq!(member_names(&team), ["Nguyễn Văn An", "Jane Doe"]);
    assert_eq!(team["emails_visible"], false);
    assert_eq!(member_emails(&team), [None, None]);
    assert!(team.get("invitations").is_none());
    assert_eq!(team["pending_invitations"], 0);

    // An address without an account is invited in the inviter's language.
    invite(&app, &an, &team_id, "moi.ban@example.vn").await;
    let (_, subject) = wait_invitation_mail(&smtp, "moi.ban@example.vn").await;
    assert!(
        subject.starts_with("Lời mời tham gia đội “Đội Sao Việt”"),
        "{subject}"
    );

    // Used once.
    let (status, body) = accept(&app, &jane, &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let actions: Vec<String> = team_actions(&app, &team_id)
        .await
        .into_iter()
        .map(|(a, before, after)| {
            assert!(after, "{a} records the state after");
            assert!(before || a == "team.create", "{a} records the state before");
            a
        })
        .collect();
    assert_eq!(
        actions,
        ["team.create", "team.invite", "team.join", "team.invite"]
    );
}

async fn accept_with_new_account_creates_it_and_joins(backend: Backend) {
    let app = app(backend, &[]).await;
    let ctx = ctx_for(&app, &[]);
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let team_id = create_team(&app, &an, "Đội Sao Việt").await;
    invite(&app, &an, &team_id, "moi@example.vn").await;
    let token = invitation_token(&app, "moi@example.vn").await;

    // What the accept page shows.
    let info = teams::invitation_info(&ctx, &token).await.expect("info");
    assert_eq!(
        info,
        Some((
            "Đội Sao Việt".to_owned(),
            "moi@example.vn".to_owned(),
            false
        ))
    );
    assert_eq!(
        teams::invitation_info(&ctx, "no-such-token")
            .await
            .expect("info"),
        None
    );

    let new_member = |token: &str, password: &str| {
        json!({
            "token": token, "full_name": "Hoàng Thị Mới", "password": password,
            "organization": "Công ty Cổ phần Sao Việt", "lang": "en",
        })
    };
    // Invalid fields are reported and do not use up the link.
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/team-invitations/accept-new",
        None,
        Some(new_member(&token, "matkhau123")),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("password")),
        "{body}"
    );

    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/team-invitations/accept-new",
        None,
        Some(new_member(&token, PASSWORD)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["account"]["email"], "moi@example.vn");
    assert_eq!(body["account"]["email_verified"], true);
    assert_eq!(body["account"]["role"], "participant");
    assert_eq!(body["account"]["lang"], "en");
    assert_eq!(
        member_names(&body["team"]),
        ["Nguyễn Văn An", "Hoàng Thị Mới"]
    );
    let session = body["token"].as_str().expect("session").to_owned();
    let (status, mine) = api(
        &app,
        Method::GET,
        "/api/v1/teams/mine",
        Some(&session),
        None,
    )
    .await;
    assert_eq!((status, mine["id"].as_str()), (200, Some(team_id.as_str())));
    // The new account logs in with its password too.
    login(&app, "moi@example.vn").await;
    // The link worked once.
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/team-invitations/accept-new",
        None,
        Some(new_member(&token, PASSWORD)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    assert_eq!(
        teams::invitation_info(&ctx, &token).await.expect("info"),
        None
    );

    // An address that has an account (here: registered, never verified) cannot take this path…
    register(&app, "da.co@example.vn", "Đỗ Đã Có", "vi").await;
    invite(&app, &an, &team_id, "da.co@example.vn").await;
    let token = invitation_token(&app, "da.co@example.vn").await;
    assert_eq!(
        teams::invitation_info(&ctx, &token).await.expect("info"),
        Some((
            "Đội Sao Việt".to_owned(),
            "da.co@example.vn".to_owned(),
            true
        ))
    );
    let got = api(
        &app,
        Method::POST,
        "/api/v1/team-invitations/accept-new",
        None,
        Some(new_member(&token, PASSWORD)),
    )
    .await;
    assert_conflict(&got, "email_taken");
    assert!(got.1.get("account").is_none() && got.1.get("team").is_none());
    // …but logs in and accepts; the link proves the address, which becomes verified.
    let da_co = login(&app, "da.co@example.vn").await;
    let (status, body) = accept(&app, &da_co, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["members"].as_array().map(Vec::len), Some(3));
    let (_, me) = api(&app, Method::GET, "/api/v1/me", Some(&da_co.token), None).await;
    assert_eq!(me["email_verified"], true);
}

async fn a_person_is_in_at_most_one_team(backend: Backend) {
    let app = app(backend, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    let chi = verified_user(&app, "chi@example.vn", "Phạm Minh Chi").await;
    let team1 = create_team(&app, &an, "Đội Một").await;
    let team2 = create_team(&app, &binh, "Đội Hai").await;
    join(&app, &an, &team1, &chi).await;

    invite(&app, &binh, &team2, &chi.email).await;
    let token = invitation_token(&app, &chi.email).await;
    assert_conflict(&accept(&app, &chi, &token).await, "already_in_team");
    let got = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&chi.token),
        Some(team_body("Đội Ba")),
    )
    .await;
    assert_conflict(&got, "already_in_team");
    // A member of the team cannot be invited to it again; a leader of another team can be
    // invited, but cannot join.
    assert_conflict(
        &invite_raw(&app, &an, &team1, &chi.email).await,
        "already_in_team",
    );
    invite(&app, &an, &team1, &binh.email).await;
    let token = invitation_token(&app, &binh.email).await;
    assert_conflict(&accept(&app, &binh, &token).await, "already_in_team");
    // After leaving, the same invitation (not used up by the refusals) works.
    let (status, _) = remove(&app, &chi, &team1, &chi.id).await;
    assert_eq!(status, 204);
    let token = invitation_token(&app, &chi.email).await;
    let (status, body) = accept(&app, &chi, &token).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(team2.as_str())),
        "{body}"
    );
}

async fn size_limit_counts_pending_invitations(backend: Backend) {
    let app = app(backend, &[("teams.max_size", json!(2))]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    let chi = verified_user(&app, "chi@example.vn", "Phạm Minh Chi").await;
    let team_id = create_team(&app, &an, "Đội Nhỏ").await;

    let binh_invitation = invite(&app, &an, &team_id, &binh.email).await;
    let binh_token = invitation_token(&app, &binh.email).await;
    // The one free seat is held by the pending invitation.
    assert_conflict(
        &invite_raw(&app, &an, &team_id, &chi.email).await,
        "team_full",
    );
    // Inviting the same address again replaces its invitation rather than taking a seat.
    invite(&app, &an, &team_id, &binh.email).await;
    let binh_token2 = invitation_token(&app, &binh.email).await;
    assert_ne!(binh_token, binh_token2);
    let (status, body) = accept(&app, &binh, &binh_token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let (_, team) = get_team(&app, &an, &team_id).await;
    assert_eq!(team["pending_invitations"], 1);

    // Revoking frees the seat.
    let (_, pending) = api(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}/invitations"),
        Some(&an.token),
        None,
    )
    .await;
    let current = pending[0]["id"].as_str().expect("id").to_owned();
    assert_ne!(current, binh_invitation);
    let (status, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/teams/{team_id}/invitations/{current}"),
        Some(&an.token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/teams/{team_id}/invitations/{current}"),
        Some(&an.token),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = accept(&app, &binh, &binh_token2).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );

    let team = join(&app, &an, &team_id, &chi).await;
    assert_eq!(member_names(&team), ["Nguyễn Văn An", "Phạm Minh Chi"]);
    assert_conflict(
        &invite_raw(&app, &an, &team_id, &binh.email).await,
        "team_full",
    );
    // A member leaving frees a seat again.
    let (status, _) = remove(&app, &an, &team_id, &chi.id).await;
    assert_eq!(status, 200);
    invite(&app, &an, &team_id, &binh.email).await;
}

async fn racing_accepts_do_not_exceed_max_size(backend: Backend) {
    // Four seats while inviting; then the limit drops to two (as after a restart with a new
    // setting), so three holders of valid invitations race for one seat.
    let app = app(backend, &[("teams.max_size", json!(4))]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let team_id = create_team(&app, &an, "Đội Đua").await;
    let mut racers = Vec::new();
    for (email, name) in [
        ("binh@example.vn", "Trần Thị Bình"),
        ("chi@example.vn", "Phạm Minh Chi"),
        ("dung@example.vn", "Lê Văn Dũng"),
    ] {
        let user = verified_user(&app, email, name).await;
        invite(&app, &an, &team_id, email).await;
        let token = invitation_token(&app, email).await;
        racers.push((user, token));
    }
    let ctx = ctx_for(&app, &[("teams.max_size", json!(2))]);
    let mut set = tokio::task::JoinSet::new();
    for (user, token) in racers {
        let ctx = ctx.clone();
        set.spawn(async move {
            let actor = accounts::authenticate(&ctx, &user.token, None)
                .await
                .expect("authenticate")
                .expect("a live session");
            teams::accept_invitation(&ctx, &actor, &token).await
        });
    }
    let (mut joined, mut full) = (0, 0);
    while let Some(result) = set.join_next().await {
        match result.expect("task") {
            Ok(team) => {
                joined += 1;
                assert_eq!(team.members.len(), 2);
            }
            Err(ServiceError::Conflict {
                code: "team_full", ..
            }) => full += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((joined, full), (1, 2));
    let (_, team) = get_team(&app, &an, &team_id).await;
    assert_eq!(team["members"].as_array().map(Vec::len), Some(2));
}

async fn leave_remove_and_hand_over(backend: Backend) {
    let app = app(backend, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    let chi = verified_user(&app, "chi@example.vn", "Phạm Minh Chi").await;
    let dung = verified_user(&app, "dung@example.vn", "Lê Văn Dũng").await;
    let team_id = create_team(&app, &an, "Đội Sao Việt").await;
    for u in [&binh, &chi, &dung] {
        join(&app, &an, &team_id, u).await;
    }

    // The leader cannot just leave; a member cannot remove another.
    assert_conflict(
        &remove(&app, &an, &team_id, &an.id).await,
        "leader_must_hand_over",
    );
    assert_conflict(&remove(&app, &binh, &team_id, &chi.id).await, "not_leader");
    assert_conflict(
        &hand_over(&app, &binh, &team_id, &binh.id).await,
        "not_leader",
    );

    // A member leaves.
    let (status, body) = remove(&app, &dung, &team_id, &dung.id).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(get_team(&app, &dung, &team_id).await.0, 404);

    // The leader removes a member.
    let (status, team) = remove(&app, &an, &team_id, &chi.id).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(member_names(&team), ["Nguyễn Văn An", "Trần Thị Bình"]);
    assert_eq!(get_team(&app, &chi, &team_id).await.0, 404);
    assert_conflict(&remove(&app, &an, &team_id, &chi.id).await, "not_member");
    assert_conflict(&hand_over(&app, &an, &team_id, &chi.id).await, "not_member");

    // The leader hands over, then may leave.
    let (status, team) = hand_over(&app, &an, &team_id, &binh.id).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["leader_id"], binh.id.as_str());
    assert_eq!(
        team["emails_visible"], false,
        "the former leader no longer sees emails"
    );
    let (_, team) = get_team(&app, &binh, &team_id).await;
    assert_eq!(team["emails_visible"], true);
    assert_eq!(team["members"][1]["leader"], true);
    assert_conflict(&hand_over(&app, &an, &team_id, &an.id).await, "not_leader");
    let (status, _) = remove(&app, &an, &team_id, &an.id).await;
    assert_eq!(status, 204);

    // The last member leaving dissolves the team and its invitations.
    invite(&app, &binh, &team_id, &chi.email).await;
    let token = invitation_token(&app, &chi.email).await;
    let (status, _) = remove(&app, &binh, &team_id, &binh.id).await;
    assert_eq!(status, 204);
    assert_eq!(get_team(&app, &binh, &team_id).await.0, 404);
    let (status, _) = api(
        &app,
        Method::GET,
        "/api/v1/teams/mine",
        Some(&binh.token),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = accept(&app, &chi, &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    // The name is free again.
    create_team(&app, &chi, "Đội Sao Việt").await;

    let actions = team_actions(&app, &team_id).await;
    let names: Vec<&str> = actions.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "team.create",
            "team.invite",
            "team.join",
            "team.invite",
            "team.join",
            "team.invite",
            "team.join",
            "team.leave",
            "team.remove_member",
            "team.hand_over",
            "team.leave",
            "team.invite",
            "team.dissolve",
        ]
    );
    assert_eq!(
        actions.last(),
        Some(&("team.dissolve".to_owned(), true, false))
    );
}

async fn members_see_names_leader_and_organizers_see_emails(backend: Backend) {
    let app = app(backend, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    let stranger = verified_user(&app, "la@example.vn", "Người Lạ").await;
    let team_id = create_team(&app, &an, "Đội Sao Việt").await;
    join(&app, &an, &team_id, &binh).await;
    invite(&app, &an, &team_id, "cho@example.vn").await;

    let (status, team) = get_team(&app, &binh, &team_id).await;
    assert_eq!(status, 200);
    assert_eq!(member_names(&team), ["Nguyễn Văn An", "Trần Thị Bình"]);
    assert_eq!(member_emails(&team), [None, None]);
    assert!(team.get("invitations").is_none());
    assert_eq!(team["pending_invitations"], 1);
    assert!(!team.to_string().contains("@example.vn"), "{team}");
    let got = api(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}/invitations"),
        Some(&binh.token),
        None,
    )
    .await;
    assert_conflict(&got, "not_leader");

    let (status, team) = get_team(&app, &an, &team_id).await;
    assert_eq!(status, 200);
    assert_eq!(
        member_emails(&team),
        [Some(an.email.clone()), Some(binh.email.clone())]
    );
    assert_eq!(team["invitations"][0]["email"], "cho@example.vn");

    // A stranger learns nothing, not even that the team exists.
    let (status, body) = get_team(&app, &stranger, &team_id).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    assert_eq!(get_team(&app, &stranger, "no-such-team").await.0, 404);
    let (status, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}/invitations"),
        Some(&stranger.token),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        invite_raw(&app, &stranger, &team_id, "x@example.vn")
            .await
            .0,
        404
    );
    assert_eq!(remove(&app, &stranger, &team_id, &binh.id).await.0, 404);
    let (status, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/teams/{team_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Organizers see everything but do not take part.
    let ctx = ctx_for(&app, &[]);
    accounts::bootstrap_organizer(&ctx, "btc@example.vn", "Ban Tổ Chức", PASSWORD)
        .await
        .expect("organizer");
    let organizer = login(&app, "btc@example.vn").await;
    let (status, team) = get_team(&app, &organizer, &team_id).await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["emails_visible"], true);
    assert_eq!(
        member_emails(&team),
        [Some(an.email.clone()), Some(binh.email.clone())]
    );
    assert_eq!(team["invitations"][0]["email"], "cho@example.vn");
    let (status, body) = api(
        &app,
        Method::POST,
        "/api/v1/teams",
        Some(&organizer.token),
        Some(team_body("Đội Ban Tổ Chức")),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let actor = accounts::authenticate(&ctx, &organizer.token, None)
        .await
        .expect("authenticate")
        .expect("session");
    assert_eq!(actor.role(), Role::Organizer);
    let view = teams::team(&ctx, &actor, &team_id).await.expect("view");
    assert!(view.emails_visible && !view.viewer_is_member);
}

async fn reused_expired_and_revoked_tokens_are_refused(backend: Backend) {
    let app = app(backend, &[]).await;
    let an = verified_user(&app, "an@example.vn", "Nguyễn Văn An").await;
    let binh = verified_user(&app, "binh@example.vn", "Trần Thị Bình").await;
    let team_id = create_team(&app, &an, "Đội Sao Việt").await;

    // Expired.
    invite(&app, &an, &team_id, &binh.email).await;
    let token = invitation_token(&app, &binh.email).await;
    sqlx::query("UPDATE tokens SET expires_at = $1 WHERE purpose = 'team_invite'")
        .bind(now_ms() - 1)
        .execute(app.store.pool())
        .await
        .expect("expire");
    let (status, body) = accept(&app, &binh, &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let (_, team) = get_team(&app, &an, &team_id).await;
    assert_eq!(
        team["pending_invitations"], 0,
        "an expired invitation frees its seat"
    );
    let ctx = ctx_for(&app, &[]);
    assert_eq!(
        teams::invitation_info(&ctx, &token).await.expect("info"),
        None
    );

    // Unknown.
    let (status, body) = accept(&app, &binh, "not-a-real-token").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );

    // Reused.
    invite(&app, &an, &team_id, &binh.email).await;
    let token = invitation_token(&app, &binh.email).await;
    let (status, _) = accept(&app, &binh, &token).await;
    assert_eq!(status, 200);
    let (status, _) = remove(&app, &binh, &team_id, &binh.id).await;
    assert_eq!(status, 204);
    let (status, body) = accept(&app, &binh, &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
}

/// A lost race shows up as a violated UNIQUE constraint; both databases say which one.
async fn unique_violations_are_told_apart(backend: Backend) {
    use dxcontest::i18n::Lang;
    use dxcontest::store::accounts::{NewUser, insert_user};
    use dxcontest::store::teams::{
        TeamRecord, UniqueColumn, insert_member, insert_team, unique_violation,
    };

    let app = spawn_app(backend).await;
    let pool = app.store.pool();
    let now = now_ms();
    for id in ["u1", "u2"] {
        insert_user(
            pool,
            &NewUser {
                id,
                email: &format!("{id}@example.vn"),
                full_name: "Tên",
                organization: "Tổ chức",
                phone: None,
                lang: Lang::Vi,
                role: Role::Participant,
                password_hash: "x",
                verified_at: Some(now),
                now,
            },
        )
        .await
        .expect("user");
    }
    let team = |id: &str, leader: &str| TeamRecord {
        id: id.to_owned(),
        name: "Đội Sao Việt".to_owned(),
        name_key: "doi sao viet".to_owned(),
        kind: "student".to_owned(),
        province: "Hà Nội".to_owned(),
        organization: "Tổ chức".to_owned(),
        leader_id: leader.to_owned(),
        created_at: now,
        updated_at: now,
    };
    insert_team(pool, &team("t1", "u1")).await.expect("team");
    let err = insert_team(pool, &team("t2", "u2"))
        .await
        .expect_err("same name key");
    assert_eq!(
        unique_violation(&err),
        Some(UniqueColumn::TeamName),
        "{err}"
    );
    insert_team(
        pool,
        &TeamRecord {
            name_key: "doi khac".to_owned(),
            ..team("t2", "u2")
        },
    )
    .await
    .expect("team");
    insert_member(pool, "t1", "u1", now).await.expect("member");
    let err = insert_member(pool, "t2", "u1", now)
        .await
        .expect_err("one team per person");
    assert_eq!(unique_violation(&err), Some(UniqueColumn::Member), "{err}");
    let err = insert_user(
        pool,
        &NewUser {
            id: "u3",
            email: "u1@example.vn",
            full_name: "Tên",
            organization: "Tổ chức",
            phone: None,
            lang: Lang::Vi,
            role: Role::Participant,
            password_hash: "x",
            verified_at: None,
            now,
        },
    )
    .await
    .expect_err("same email");
    assert!(
        matches!(err, dxcontest::store::StoreError::EmailTaken),
        "a duplicate email is reported as such: {err}"
    );
}
