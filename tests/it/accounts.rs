//! Accounts over the API with mail delivered to a real SMTP server: register, verify, log in and
//! out, reset and change the password, change the email; tokens that are reused or expired; rate
//! limits; replies that do not reveal whether an address is registered.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Backend, TestApp, spawn_app_with};
use crate::mail::TestSmtp;
use crate::on_both_backends;

on_both_backends!(
    register_verify_login_and_logout,
    registration_reply_does_not_reveal_registered_addresses,
    bad_registration_names_every_field_and_writes_nothing,
    reused_and_expired_tokens_are_refused,
    login_rate_limit_answers_429_with_retry_after,
    password_reset_by_email,
    change_password_and_email,
    concurrent_registrations_of_one_address_make_one_account,
);

/// An app whose mail goes to a real SMTP server in this process.
pub async fn app_with_mail(backend: Backend, extra: &[(&str, Value)]) -> (TestApp, TestSmtp) {
    let smtp = TestSmtp::start().await;
    let mut overrides: Vec<(&str, Value)> = vec![
        ("mail.transport", "smtp".into()),
        ("mail.smtp.host", "127.0.0.1".into()),
        ("mail.smtp.port", smtp.port().into()),
        ("mail.dispatcher.poll_interval_ms", 50.into()),
    ];
    overrides.extend(extra.iter().cloned());
    (spawn_app_with(backend, &overrides).await, smtp)
}

/// The token of the first link to `path` in the newest message sent to `to`.
pub async fn token_from_mail(smtp: &TestSmtp, to: &str, path: &str) -> String {
    for _ in 0..100 {
        let found = smtp
            .received()
            .into_iter()
            .rev()
            .find(|m| m.to.iter().any(|t| t == to))
            .and_then(|m| {
                let text = m.parse().text;
                let start = text.find(&format!("{path}?token="))? + path.len() + "?token=".len();
                Some(
                    text[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect::<String>(),
                )
            });
        if let Some(token) = found {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} with a {path} link");
}

pub async fn post(app: &TestApp, path: &str, body: Value, bearer: Option<&str>) -> (u16, Value) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn get_auth(app: &TestApp, path: &str, bearer: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub const PASSWORD: &str = "Ruộng bậc thang Mù Cang Chải 7";

pub fn registration(email: &str) -> Value {
    json!({"email": email, "full_name": "Nguyễn Thị Lan", "password": PASSWORD, "organization": "Đại học Bách khoa Hà Nội", "phone": "+84 912 345 678"})
}

/// Registers, verifies through the emailed link and logs in; returns the session token.
pub async fn verified_session(app: &TestApp, smtp: &TestSmtp, email: &str) -> String {
    let (status, _) = post(app, "/api/v1/accounts", registration(email), None).await;
    assert_eq!(status, 202);
    let token = token_from_mail(smtp, email, "/verify").await;
    let (status, body) = post(
        app,
        "/api/v1/accounts/verify",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        app,
        "/api/v1/sessions",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

async fn register_verify_login_and_logout(backend: Backend) {
    let (app, smtp) = app_with_mail(backend, &[]).await;
    let (status, body) = post(
        &app,
        "/api/v1/accounts",
        registration("Lan.Nguyen@Example.VN"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("xác nhận"))
    );

    // The mail arrives once, in Vietnamese, with a link to the confirm page (not an API call).
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["lan.nguyen@example.vn".to_owned()]);
    let parsed = mails[0].parse();
    assert!(parsed.text.contains("Nguyễn Thị Lan"), "{}", parsed.text);
    let token = token_from_mail(&smtp, "lan.nguyen@example.vn", "/verify").await;
    assert!(
        parsed
            .text
            .contains(&format!("{}/verify?token={token}", app.config_base()))
    );

    // Unverified accounts can log in.
    let (status, session) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "lan.nguyen@example.vn", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["account"]["email_verified"], false);
    let bearer = session["token"].as_str().expect("token").to_owned();

    let (status, account) = post(
        &app,
        "/api/v1/accounts/verify",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!((status, &account["email_verified"]), (200, &json!(true)));

    let (status, me) = get_auth(&app, "/api/v1/me", &bearer).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "lan.nguyen@example.vn");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["role"], "participant");
    assert_eq!(me["phone"], "+84912345678");

    let (status, notes) = get_auth(&app, "/api/v1/me/notifications", &bearer).await;
    assert_eq!(status, 200);
    assert_eq!(notes.as_array().map(Vec::len), Some(1));
    assert_eq!(notes[0]["kind"], "verify_email");

    let resp = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 204);
    let (status, body) = get_auth(&app, "/api/v1/me", &bearer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );

    let (status, body) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "lan.nguyen@example.vn", "password": "wrong password here"}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("bad_credentials"))
    );
}

async fn registration_reply_does_not_reveal_registered_addresses(backend: Backend) {
    let (app, smtp) = app_with_mail(backend, &[]).await;
    verified_session(&app, &smtp, "taken@example.vn").await;
    let before = smtp.received().len();
    let taken = app
        .client
        .post(app.url("/api/v1/accounts"))
        .json(&registration("taken@example.vn"))
        .send()
        .await
        .expect("sent");
    let fresh = app
        .client
        .post(app.url("/api/v1/accounts"))
        .json(&registration("fresh@example.vn"))
        .send()
        .await
        .expect("sent");
    assert_eq!(taken.status(), fresh.status());
    assert_eq!(
        taken.text().await.expect("body"),
        fresh.text().await.expect("body")
    );
    smtp.wait_for(before + 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after: Vec<_> = smtp.received().into_iter().skip(before).collect();
    assert_eq!(after.len(), 1, "only the new address gets mail");
    assert_eq!(after[0].to, vec!["fresh@example.vn".to_owned()]);

    // Password reset: the same reply for a known and an unknown address.
    let known = app
        .client
        .post(app.url("/api/v1/password-resets"))
        .json(&json!({"email": "taken@example.vn"}))
        .send()
        .await
        .expect("sent");
    let unknown = app
        .client
        .post(app.url("/api/v1/password-resets"))
        .json(&json!({"email": "nobody@example.vn"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(known.status(), 202);
    assert_eq!(known.status(), unknown.status());
    assert_eq!(
        known.text().await.expect("body"),
        unknown.text().await.expect("body")
    );
}

async fn bad_registration_names_every_field_and_writes_nothing(backend: Backend) {
    let (app, _smtp) = app_with_mail(backend, &[]).await;
    let body = json!({"email": "not-an-email", "full_name": "  ", "password": "password123", "organization": "x".repeat(201), "phone": "12"});
    let (status, problem) = post(&app, "/api/v1/accounts", body, None).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "invalid_input");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        vec!["email", "full_name", "organization", "phone", "password"]
    );
    let password_msg = problem["errors"][4]["message"].as_str().unwrap_or("");
    assert!(
        password_msg.contains("phổ biến"),
        "Vietnamese by default: {password_msg}"
    );
    let (_, en) = post(
        &app,
        "/api/v1/accounts?lang=en",
        json!({"email": "a@b.vn", "full_name": "A", "password": "short", "organization": "B"}),
        None,
    )
    .await;
    assert!(
        en["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at least 10")),
        "{en}"
    );
    // A body that is not JSON at all is a 400 problem too.
    let resp = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");

    let (users, total) =
        dxcontest::store::accounts::list_users(app.store.pool(), None, None, 10, 0)
            .await
            .expect("list");
    assert_eq!((users.len(), total), (0, 0), "nothing was written");
}

async fn reused_and_expired_tokens_are_refused(backend: Backend) {
    let (app, smtp) = app_with_mail(backend, &[]).await;
    post(
        &app,
        "/api/v1/accounts",
        registration("once@example.vn"),
        None,
    )
    .await;
    let token = token_from_mail(&smtp, "once@example.vn", "/verify").await;
    let (status, _) = post(
        &app,
        "/api/v1/accounts/verify",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &app,
        "/api/v1/accounts/verify",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let (status, _) = post(
        &app,
        "/api/v1/accounts/verify",
        json!({"token": "made-up"}),
        None,
    )
    .await;
    assert_eq!(status, 400);

    // Reset links that expire at once.
    let (app2, smtp2) = app_with_mail(backend, &[("accounts.reset_link_minutes", 0.into())]).await;
    verified_session(&app2, &smtp2, "late@example.vn").await;
    post(
        &app2,
        "/api/v1/password-resets",
        json!({"email": "late@example.vn"}),
        None,
    )
    .await;
    let token = token_from_mail(&smtp2, "late@example.vn", "/reset-password").await;
    let (status, body) = post(
        &app2,
        "/api/v1/password-resets/confirm",
        json!({"token": token, "new_password": "Vịnh Hạ Long mùa thu 2022"}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("token_invalid")),
        "{body}"
    );
}

async fn login_rate_limit_answers_429_with_retry_after(backend: Backend) {
    let (app, _smtp) = app_with_mail(backend, &[("rate_limits.login_per_account", 3.into())]).await;
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            "/api/v1/sessions",
            json!({"email": "who@example.vn", "password": "wrong password!"}),
            None,
        )
        .await;
        assert_eq!(status, 401);
    }
    let resp = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": "WHO@example.vn", "password": "wrong password!"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=900).contains(&retry), "{retry}");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "rate_limited");
    // Another account is not affected.
    let (status, _) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "other@example.vn", "password": "wrong password!"}),
        None,
    )
    .await;
    assert_eq!(status, 401);
}

async fn password_reset_by_email(backend: Backend) {
    let (app, smtp) = app_with_mail(backend, &[]).await;
    let old_session = verified_session(&app, &smtp, "reset@example.vn").await;
    let (status, _) = post(
        &app,
        "/api/v1/password-resets",
        json!({"email": "reset@example.vn"}),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let token = token_from_mail(&smtp, "reset@example.vn", "/reset-password").await;
    let (status, body) = post(
        &app,
        "/api/v1/password-resets/confirm",
        json!({"token": token, "new_password": "1234567890"}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("password")),
        "{body}"
    );
    let new_password = "Phố cổ Hội An đèn lồng 9";
    let resp = app
        .client
        .post(app.url("/api/v1/password-resets/confirm"))
        .json(&json!({"token": token, "new_password": new_password}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 204);
    let (status, _) = get_auth(&app, "/api/v1/me", &old_session).await;
    assert_eq!(status, 401, "a reset ends every session");
    let (status, _) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "reset@example.vn", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "reset@example.vn", "password": new_password}),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = post(
        &app,
        "/api/v1/password-resets/confirm",
        json!({"token": token, "new_password": "Another good one, 2022!"}),
        None,
    )
    .await;
    assert_eq!(status, 400, "a reset link works once");
}

async fn change_password_and_email(backend: Backend) {
    let (app, smtp) = app_with_mail(backend, &[]).await;
    let here = verified_session(&app, &smtp, "change@example.vn").await;
    let (_, other) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "change@example.vn", "password": PASSWORD}),
        None,
    )
    .await;
    let other = other["token"].as_str().expect("token").to_owned();

    let (status, body) = post(
        &app,
        "/api/v1/me/password",
        json!({"current_password": "not it at all", "new_password": "Đà Lạt sương mù 2022"}),
        Some(&here),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (409, Some("current_password")),
        "{body}"
    );
    let resp = app
        .client
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&here)
        .json(&json!({"current_password": PASSWORD, "new_password": "Đà Lạt sương mù 2022"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 204);
    assert_eq!(
        get_auth(&app, "/api/v1/me", &here).await.0,
        200,
        "this session stays"
    );
    assert_eq!(
        get_auth(&app, "/api/v1/me", &other).await.0,
        401,
        "other sessions end"
    );

    let (status, body) = post(
        &app,
        "/api/v1/me/email",
        json!({"new_email": "new.address@example.vn", "password": "Đà Lạt sương mù 2022"}),
        Some(&here),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let token = token_from_mail(&smtp, "new.address@example.vn", "/confirm-email").await;
    let (_, me) = get_auth(&app, "/api/v1/me", &here).await;
    assert_eq!(
        me["email"], "change@example.vn",
        "unchanged until confirmed"
    );
    let (status, account) = post(
        &app,
        "/api/v1/me/email/confirm",
        json!({"token": token}),
        None,
    )
    .await;
    assert_eq!(
        (status, account["email"].as_str()),
        (200, Some("new.address@example.vn"))
    );
    let (status, _) = post(
        &app,
        "/api/v1/sessions",
        json!({"email": "new.address@example.vn", "password": "Đà Lạt sương mù 2022"}),
        None,
    )
    .await;
    assert_eq!(status, 201);

    // The audit log holds each change with its actor.
    let (entries, _) = dxcontest::store::accounts::list_audit(
        app.store.pool(),
        &dxcontest::store::accounts::AuditFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "account.register",
        "account.verify_email",
        "account.change_password",
        "account.change_email",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let change = entries
        .iter()
        .find(|e| e.action == "account.change_email")
        .expect("entry");
    assert!(
        change
            .before
            .as_deref()
            .is_some_and(|b| b.contains("change@example.vn"))
    );
    assert!(change.actor_id.is_some() && change.ip.is_some());
}

async fn concurrent_registrations_of_one_address_make_one_account(backend: Backend) {
    let (app, _smtp) = app_with_mail(backend, &[]).await;
    let sends = (0..6).map(|_| {
        app.client
            .post(app.url("/api/v1/accounts"))
            .json(&registration("race@example.vn"))
            .send()
    });
    let results = futures_util::future::join_all(sends).await;
    for r in results {
        assert_eq!(
            r.expect("sent").status(),
            202,
            "every racer gets the same reply"
        );
    }
    let (users, total) =
        dxcontest::store::accounts::list_users(app.store.pool(), None, Some("race@"), 10, 0)
            .await
            .expect("list");
    assert_eq!((users.len(), total), (1, 1));
}
