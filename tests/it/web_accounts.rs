//! The account pages over HTTP, as a browser would use them: forms with a CSRF token, a session
//! cookie, redirects after posts, field errors in Vietnamese.

use dxcontest::domain::account::Role;
use dxcontest::mail::OutboxFilter;
use dxcontest::store::accounts::{UserChange, update_user, user_by_email};

use crate::common::{Backend, TestApp, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    register_form_shows_field_errors_in_vietnamese_and_keeps_input,
    posts_without_the_right_csrf_token_are_refused,
    opening_the_verification_link_does_not_verify,
    login_and_logout_with_the_session_cookie,
    next_must_be_a_local_path,
    account_page_changes_profile_password_and_email,
    forgotten_password_replies_the_same_and_resets,
    organizer_pages_refuse_participants_and_anonymous,
    team_page_creates_invites_and_manages_members,
    invitation_pages_offer_the_right_step,
    organizer_pages_invite_judges_manage_users_mail_and_audit,
);

pub const PASSWORD: &str = "lúa chín vàng đồng 2022";

/// The CSRF token in a page's forms.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF field") + marker.len();
    let len = html[start..].find('"').expect("end of value");
    html[start..start + len].to_owned()
}

/// `Set-Cookie` headers of a response.
fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app.get(path).await;
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

/// Posts a form the way a browser does.
pub async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .expect("form posted")
}

/// Opens the form page at `form_path`, then posts `fields` to `action` with the page's token.
pub async fn submit(
    app: &TestApp,
    form_path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = page(app, form_path).await;
    assert_eq!(status, 200, "{form_path}: {html}");
    let csrf = csrf_in(&html);
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    all.extend_from_slice(fields);
    post_form(app, action, &all).await
}

/// The link with a token from the last message of `kind` to `email` in the outbox.
pub async fn link_from_outbox(app: &TestApp, email: &str, kind: &str) -> String {
    let (rows, _) = app
        .store
        .list_outbox(&OutboxFilter {
            recipient: Some(email.to_owned()),
            kind: Some(kind.to_owned()),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .expect("outbox");
    let text = &rows.first().expect("a message").text;
    let start = text.find("http").expect("a link");
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| start + i);
    text[start..end].to_owned()
}

/// `/path?token=…` from an absolute link.
pub fn path_of(link: &str) -> String {
    let after_scheme = link.find("://").map_or(0, |i| i + 3);
    let path_start = link[after_scheme..]
        .find('/')
        .map_or(link.len(), |i| after_scheme + i);
    link[path_start..].to_owned()
}

pub fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap_or("").to_owned()
}

pub async fn register(app: &TestApp, email: &str, name: &str) {
    let resp = submit(
        app,
        "/register",
        "/register",
        &[
            ("email", email),
            ("full_name", name),
            ("password", PASSWORD),
            ("organization", "Đại học Bách khoa Hà Nội"),
            ("phone", ""),
            ("lang", "vi"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.expect("body");
    assert!(html.contains("Hãy kiểm tra hộp thư"), "{html}");
}

pub async fn verify(app: &TestApp, email: &str) {
    let link = link_from_outbox(app, email, "verify_email").await;
    let path = path_of(&link);
    let token = token_of(&link);
    let resp = submit(app, &path, "/verify", &[("token", &token)]).await;
    assert_eq!(resp.status().as_u16(), 303);
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    submit(
        app,
        "/login",
        "/login",
        &[("email", email), ("password", password)],
    )
    .await
}

pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn user_verified(app: &TestApp, email: &str) -> bool {
    user_by_email(app.store.pool(), email)
        .await
        .expect("query")
        .expect("user exists")
        .email_verified_at
        .is_some()
}

async fn register_form_shows_field_errors_in_vietnamese_and_keeps_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, html) = page(&app, "/register").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"vi\">") && html.contains("Đăng ký tài khoản"));
    let csrf = csrf_in(&html);

    let resp = post_form(
        &app,
        "/register",
        &[
            ("csrf", &csrf),
            ("email", "không-phải-email"),
            ("full_name", "Nguyễn Thị Hoa"),
            ("password", "matkhau123"),
            ("organization", ""),
            ("phone", "12ab"),
            ("lang", "vi"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    // A message under each field at fault, in Vietnamese.
    assert!(
        html.contains("<p class=\"error\" id=\"f-email-error\">Địa chỉ email không hợp lệ.</p>"),
        "{html}"
    );
    assert!(html.contains("id=\"f-organization-error\">Không được để trống.</p>"));
    assert!(html.contains("id=\"f-phone-error\">Số điện thoại không hợp lệ"));
    assert!(html.contains("id=\"f-password-error\">Mật khẩu quá phổ biến"));
    assert!(!html.contains("f-full_name-error"), "the name was fine");
    assert!(html.contains("Vui lòng sửa các ô được đánh dấu"));
    // The typed input is kept, the password is not.
    assert!(html.contains("value=\"Nguyễn Thị Hoa\""));
    assert!(html.contains("value=\"không-phải-email\""));
    assert!(!html.contains("matkhau123"), "the password is never echoed");
    assert!(
        user_by_email(app.store.pool(), "không-phải-email")
            .await
            .expect("query")
            .is_none()
    );

    // The same in English.
    let (_, html) = page(&app, "/register?lang=en").await;
    let csrf = csrf_in(&html);
    let resp = post_form(
        &app,
        "/register",
        &[("csrf", &csrf), ("email", "an@example.vn")],
    )
    .await;
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-full_name-error\">This is required.</p>"));
    assert!(html.contains("value=\"an@example.vn\""));

    // A good form: the "check your email" page, and an unverified account.
    let _ = page(&app, "/register?lang=vi").await;
    register(&app, "hoa@example.vn", "Nguyễn Thị Hoa").await;
    assert!(!user_verified(&app, "hoa@example.vn").await);
}

async fn posts_without_the_right_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let fields = [
        ("email", "lan@example.vn"),
        ("full_name", "Trần Thị Lan"),
        ("password", PASSWORD),
        ("organization", "Sở TT&TT Đà Nẵng"),
        ("lang", "vi"),
    ];
    // No token at all, and no cookie either.
    let resp = post_form(&app, "/register", &fields).await;
    assert_eq!(resp.status().as_u16(), 403);
    let html = resp.text().await.expect("body");
    assert!(html.contains("Biểu mẫu đã hết hạn"), "{html}");

    // A cookie (from opening the form) but a wrong or missing field.
    let (_, html) = page(&app, "/register").await;
    let csrf = csrf_in(&html);
    let mut wrong = fields.to_vec();
    wrong.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(
        post_form(&app, "/register", &wrong).await.status().as_u16(),
        403
    );
    assert_eq!(
        post_form(&app, "/register", &fields)
            .await
            .status()
            .as_u16(),
        403
    );
    // The right field from another browser, which has no cookie (what a cross-site form does).
    let mut right = fields.to_vec();
    right.push(("csrf", &csrf));
    let stranger = fresh_client();
    let resp = stranger
        .post(app.url("/register"))
        .form(&right)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 403);
    // Not a form at all.
    let resp = app
        .client
        .post(app.url("/login"))
        .json(&serde_json::json!({"csrf": csrf, "email": "x@example.vn"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 403);
    for path in [
        "/login",
        "/logout",
        "/verify",
        "/forgot-password",
        "/account/profile",
    ] {
        assert_eq!(
            post_form(&app, path, &[("email", "x@example.vn")])
                .await
                .status()
                .as_u16(),
            403,
            "{path}"
        );
    }
    assert!(
        user_by_email(app.store.pool(), "lan@example.vn")
            .await
            .expect("query")
            .is_none(),
        "nothing was registered"
    );

    // The cookie is HttpOnly and SameSite=Strict.
    let fresh = fresh_client();
    let resp = fresh.get(app.url("/register")).send().await.expect("sent");
    let cookies = set_cookies(&resp);
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("dx_csrf="))
        .expect("dx_csrf set");
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );
    assert!(!csrf_cookie.contains("Secure"), "plain http in tests");

    // With the right token the same form goes through.
    let resp = post_form(&app, "/register", &right).await;
    assert_eq!(resp.status().as_u16(), 200);
}

async fn opening_the_verification_link_does_not_verify(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "minh@example.vn", "Lê Văn Minh").await;
    let link = link_from_outbox(&app, "minh@example.vn", "verify_email").await;
    let path = path_of(&link);
    assert!(path.starts_with("/verify?token="), "{path}");

    // A mail scanner (or the person) opens the link, twice: nothing changes.
    for _ in 0..2 {
        let (status, html) = page(&app, &path).await;
        assert_eq!(status, 200);
        assert!(html.contains("Xác nhận địa chỉ email"));
        assert!(html.contains("id=\"confirm\""), "a confirm button");
        let scanner = fresh_client();
        let resp = scanner.get(app.url(&path)).send().await.expect("sent");
        assert_eq!(resp.status().as_u16(), 200);
    }
    assert!(
        !user_verified(&app, "minh@example.vn").await,
        "GET does not verify"
    );

    // Pressing the button does.
    let (_, html) = page(&app, &path).await;
    let csrf = csrf_in(&html);
    let resp = post_form(
        &app,
        "/verify",
        &[("csrf", &csrf), ("token", &token_of(&link))],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?m=verified");
    assert!(user_verified(&app, "minh@example.vn").await);
    let (_, html) = page(&app, "/login?m=verified").await;
    assert!(html.contains("Địa chỉ email đã được xác nhận"));

    // The link works once.
    let (status, html) = page(&app, &path).await;
    assert_eq!(status, 410);
    assert!(html.contains("Liên kết không hợp lệ, đã hết hạn hoặc đã được dùng."));
    assert!(!html.contains("id=\"confirm\""));
    let resp = post_form(
        &app,
        "/verify",
        &[("csrf", &csrf), ("token", &token_of(&link))],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 410);
    let (status, html) = page(&app, "/verify?token=nonsense").await;
    assert_eq!(status, 410);
    assert!(html.contains("không hợp lệ"));
    let (status, _) = page(&app, "/verify").await;
    assert_eq!(status, 410);
}

async fn login_and_logout_with_the_session_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "tuan@example.vn", "Phạm Anh Tuấn").await;
    verify(&app, "tuan@example.vn").await;

    // Not logged in: the account page sends to the login page and back.
    let resp = app.get("/account").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?next=%2Faccount");

    // A wrong password: a message, the email kept.
    let resp = login(&app, "tuan@example.vn", "sai mật khẩu rồi").await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(
        set_cookies(&resp)
            .iter()
            .all(|c| !c.starts_with("dx_session="))
    );
    let html = resp.text().await.expect("body");
    assert!(html.contains("Email hoặc mật khẩu không đúng."));
    assert!(html.contains("value=\"tuan@example.vn\""));
    assert!(!html.contains("sai mật khẩu"));

    let (_, html) = page(&app, "/login?next=%2Faccount").await;
    assert!(html.contains("name=\"next\" value=\"/account\""));
    let csrf_before = csrf_in(&html);
    let resp = post_form(
        &app,
        "/login",
        &[
            ("csrf", &csrf_before),
            ("email", "Tuan@Example.vn"),
            ("password", PASSWORD),
            ("next", "/account"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/account");
    let cookies = set_cookies(&resp);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("dx_session="))
        .expect("session cookie")
        .clone();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http in tests");
    let token = session["dx_session=".len()..]
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    assert!(
        cookies.iter().any(|c| c.starts_with("dx_csrf=")),
        "a fresh CSRF token at login"
    );

    let (status, html) = page(&app, "/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong id=\"who\">Phạm Anh Tuấn</strong>"));
    assert!(html.contains("tuan@example.vn") && html.contains("đã xác nhận"));
    assert!(html.contains("action=\"/logout\""));
    assert_ne!(csrf_in(&html), csrf_before, "the token changed at login");
    // The home page shows who is logged in too.
    let (_, html) = page(&app, "/").await;
    assert!(html.contains("id=\"who\">Phạm Anh Tuấn<"));
    // The login page sends a logged-in person on.
    let resp = app.get("/login").await;
    assert_eq!(resp.status().as_u16(), 303);

    // Log out: the cookie goes, and the session is dead on the server too.
    let (_, html) = page(&app, "/account").await;
    let csrf = csrf_in(&html);
    let resp = post_form(&app, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?m=logged-out");
    assert!(
        set_cookies(&resp)
            .iter()
            .any(|c| c.starts_with("dx_session=;")
                || c.starts_with("dx_session=\"\"")
                || c.contains("Max-Age=0")),
        "the session cookie is removed"
    );
    let resp = app.get("/account").await;
    assert_eq!(resp.status().as_u16(), 303);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = replay
        .get(app.url("/account"))
        .header("cookie", format!("dx_session={token}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 303, "the old token no longer works");
    let (_, html) = page(&app, "/").await;
    assert!(!html.contains("id=\"who\""));
    assert!(html.contains("href=\"/login\""));
}

async fn next_must_be_a_local_path(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "ha@example.vn", "Vũ Thu Hà").await;
    verify(&app, "ha@example.vn").await;
    for bad in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ] {
        let resp = submit(
            &app,
            "/login",
            "/login",
            &[
                ("email", "ha@example.vn"),
                ("password", PASSWORD),
                ("next", bad),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        assert_eq!(location(&resp), "/team", "{bad} is not followed");
        // The login page does not carry it either.
        let _ = post_form(
            &app,
            "/logout",
            &[("csrf", &csrf_in(&page(&app, "/account").await.1))],
        )
        .await;
        let (_, html) = page(&app, &format!("/login?next={}", urlencode(bad))).await;
        assert!(html.contains("name=\"next\" value=\"\""), "{bad}");
    }
    let resp = submit(
        &app,
        "/login",
        "/login",
        &[
            ("email", "ha@example.vn"),
            ("password", PASSWORD),
            ("next", "/problems/BT-01?lang=vi"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/problems/BT-01?lang=vi");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn account_page_changes_profile_password_and_email(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "quang@example.vn", "Đỗ Minh Quang").await;
    verify(&app, "quang@example.vn").await;
    assert_eq!(
        login(&app, "quang@example.vn", PASSWORD).await.status(),
        303
    );
    let (status, html) = page(&app, "/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"Đỗ Minh Quang\""));
    assert!(html.contains("Thông báo của tôi") && html.contains("Xác nhận địa chỉ email"));

    // A bad phone: the message under it, the other input kept.
    let resp = submit(
        &app,
        "/account",
        "/account/profile",
        &[
            ("full_name", "Đỗ Minh Quang"),
            ("organization", "VNPT Hà Nội"),
            ("phone", "123"),
            ("lang", "vi"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-phone-error\">Số điện thoại không hợp lệ"));
    assert!(html.contains("value=\"VNPT Hà Nội\""));
    // A good one, in English from now on.
    let resp = submit(
        &app,
        "/account",
        "/account/profile",
        &[
            ("full_name", "Đỗ Minh Quang"),
            ("organization", "VNPT Hà Nội"),
            ("phone", "0912 345 678"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/account?m=profile-saved");
    let (_, html) = page(&app, "/account?m=profile-saved").await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("Your profile is saved."));
    assert!(html.contains("value=\"0912345678\"") && html.contains("value=\"VNPT Hà Nội\""));

    // Change password: the current one must be right.
    let resp = submit(
        &app,
        "/account",
        "/account/password",
        &[
            ("current_password", "not my password"),
            ("new_password", "sông Hồng chảy về biển Đông"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-current_password-error\">The current password is wrong."));
    assert!(!html.contains("sông Hồng"));
    let resp = submit(
        &app,
        "/account",
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "sông Hồng chảy về biển Đông"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/account?m=password-changed");

    // Change email: a link to the new address; nothing changes until it is confirmed.
    let resp = submit(
        &app,
        "/account",
        "/account/email",
        &[
            ("new_email", "quang.moi@example.vn"),
            ("password", "sông Hồng chảy về biển Đông"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/account?m=email-sent");
    let (_, html) = page(&app, "/account?m=email-sent").await;
    assert!(html.contains("We have sent a confirmation link to the new address."));
    assert!(html.contains("id=\"account-email\">quang@example.vn"));
    let link = link_from_outbox(&app, "quang.moi@example.vn", "email_change").await;
    let path = path_of(&link);
    assert!(path.starts_with("/confirm-email?token="), "{path}");
    let (status, html) = page(&app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"confirm\""));
    assert!(
        user_by_email(app.store.pool(), "quang.moi@example.vn")
            .await
            .expect("q")
            .is_none()
    );
    let resp = submit(
        &app,
        &path,
        "/confirm-email",
        &[("token", &token_of(&link))],
    )
    .await;
    assert_eq!(location(&resp), "/account?m=email-changed");
    let (_, html) = page(&app, "/account").await;
    assert!(html.contains("id=\"account-email\">quang.moi@example.vn"));
}

async fn forgotten_password_replies_the_same_and_resets(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "binh@example.vn", "Hoàng Văn Bình").await;
    verify(&app, "binh@example.vn").await;
    let mut replies = Vec::new();
    for email in ["binh@example.vn", "nobody@example.vn"] {
        let resp = submit(
            &app,
            "/forgot-password",
            "/forgot-password",
            &[("email", email)],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 200);
        let html = resp.text().await.expect("body");
        let start = html.find("<main>").expect("main");
        let end = html.find("</main>").expect("main end");
        replies.push(html[start..end].to_owned());
    }
    assert_eq!(
        replies[0], replies[1],
        "the same reply whatever the address"
    );
    assert!(replies[0].contains("Nếu địa chỉ này có tài khoản"));

    let link = link_from_outbox(&app, "binh@example.vn", "password_reset").await;
    let path = path_of(&link);
    assert!(path.starts_with("/reset-password?token="), "{path}");
    let resp = submit(
        &app,
        &path,
        "/reset-password",
        &[("token", &token_of(&link)), ("password", "123")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-password-error\">Cần ít nhất 10 ký tự."));
    let resp = submit(
        &app,
        &path,
        "/reset-password",
        &[
            ("token", &token_of(&link)),
            ("password", "núi Bà Đen cao 986 mét"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/login?m=password-reset");
    assert_eq!(login(&app, "binh@example.vn", PASSWORD).await.status(), 422);
    assert_eq!(
        login(&app, "binh@example.vn", "núi Bà Đen cao 986 mét")
            .await
            .status(),
        303
    );
    let (status, html) = page(&app, &path).await;
    assert_eq!(status, 410, "a reset link works once");
    assert!(html.contains("Yêu cầu liên kết mới") || html.contains("Ask for a new link"));
}

async fn organizer_pages_refuse_participants_and_anonymous(backend: Backend) {
    let app = spawn_app(backend).await;
    let pages = [
        "/organizer/judges",
        "/organizer/users",
        "/organizer/outbox",
        "/organizer/audit",
    ];
    for p in pages {
        let resp = app.get(p).await;
        assert_eq!(resp.status().as_u16(), 303, "{p}");
        assert_eq!(location(&resp), format!("/login?next={}", urlencode(p)));
    }
    register(&app, "thi.sinh@example.vn", "Ngô Thị Sinh").await;
    verify(&app, "thi.sinh@example.vn").await;
    assert_eq!(
        login(&app, "thi.sinh@example.vn", PASSWORD).await.status(),
        303
    );
    for p in pages {
        let (status, html) = page(&app, p).await;
        assert_eq!(status, 403, "{p}");
        assert!(html.contains("Không có quyền truy cập"), "{p}");
    }
    // A participant's header has no organizer links; an organizer's has them and may open all.
    let (_, html) = page(&app, "/account").await;
    assert!(!html.contains("href=\"/organizer/users\"") && html.contains("href=\"/team\""));
    let user = user_by_email(app.store.pool(), "thi.sinh@example.vn")
        .await
        .expect("q")
        .expect("user");
    update_user(
        app.store.pool(),
        &user.id,
        UserChange::Role(Role::Organizer),
        dxcontest::service::now_ms(),
    )
    .await
    .expect("made organizer");
    for p in pages {
        let (status, html) = page(&app, p).await;
        assert_eq!(status, 200, "{p}: {html}");
    }
    let (_, html) = page(&app, "/account").await;
    assert!(html.contains("href=\"/organizer/users\"") && !html.contains("href=\"/team\""));
}

/// Cookies are Secure when the public address is https.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_https() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("server.public_base_url", "https://dx.example.vn".into())],
    )
    .await;
    let resp = app.get("/login").await;
    let cookies = set_cookies(&resp);
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("dx_csrf="))
        .expect("csrf cookie");
    assert!(csrf.contains("Secure"), "{csrf}");
}

/// Another browser on the same server: its own cookies.
struct Other {
    client: reqwest::Client,
    base: String,
}

impl Other {
    fn new(app: &TestApp) -> Other {
        Other {
            client: fresh_client(),
            base: app.base.clone(),
        }
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("sent");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    async fn submit(
        &self,
        form_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (status, html) = self.page(form_path).await;
        assert_eq!(status, 200, "{form_path}: {html}");
        let csrf = csrf_in(&html);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{action}", self.base))
            .form(&all)
            .send()
            .await
            .expect("posted")
    }
}

/// The value of a hidden input named `name` (the first one).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in page"))
        + marker.len();
    let len = html[start..].find('"').expect("end");
    html[start..start + len].to_owned()
}

async fn team_page_creates_invites_and_manages_members(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "lead@example.vn", "Lý Thị Lan").await;

    // Not verified yet: no form, a message.
    assert_eq!(login(&app, "lead@example.vn", PASSWORD).await.status(), 303);
    let (status, html) = page(&app, "/team").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"verify-first\"") && !html.contains("id=\"create-form\""));
    verify(&app, "lead@example.vn").await;

    let (_, html) = page(&app, "/team").await;
    assert!(html.contains("id=\"create-form\""));
    assert_eq!(
        html.matches("<option value=\"").count(),
        2 + 63 + 7,
        "two placeholders, the provinces and the kinds"
    );
    assert!(
        html.contains("value=\"Đại học Bách khoa Hà Nội\""),
        "organization prefilled"
    );

    // Missing kind and province: messages under them, the name kept.
    let resp = submit(
        &app,
        "/team",
        "/team",
        &[
            ("name", "Đội Hoa Sen"),
            ("kind", ""),
            ("province", ""),
            ("organization", "ĐHBK"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-kind-error\">Không được để trống."));
    assert!(html.contains("id=\"f-province-error\">Không được để trống."));
    assert!(html.contains("value=\"Đội Hoa Sen\""));
    let resp = submit(
        &app,
        "/team",
        "/team",
        &[
            ("name", "Đội Hoa Sen"),
            ("kind", "startup"),
            ("province", "48"),
            ("organization", "ĐHBK"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/team?m=created");
    let (_, html) = page(&app, "/team?m=created").await;
    assert!(html.contains("id=\"team-name\">Đội Hoa Sen<"));
    assert!(html.contains("Thành phố Đà Nẵng") && html.contains("Doanh nghiệp khởi nghiệp"));
    assert!(html.contains("id=\"invite-form\""));

    // A bad address stays in the invite form with its message.
    let resp = submit(
        &app,
        "/team",
        "/team/invite",
        &[
            ("team_id", &hidden(&html, "team_id")),
            ("email", "khong-hop-le"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let body = resp.text().await.expect("body");
    assert!(body.contains("id=\"f-email-error\">Địa chỉ email không hợp lệ."));
    assert!(body.contains("value=\"khong-hop-le\""));
    let team_id = hidden(&html, "team_id");
    let resp = submit(
        &app,
        "/team",
        "/team/invite",
        &[("team_id", &team_id), ("email", "member@example.vn")],
    )
    .await;
    assert_eq!(location(&resp), "/team?m=invited");
    let (_, html) = page(&app, "/team").await;
    assert!(
        html.contains("<strong>member@example.vn</strong>"),
        "pending invitation listed"
    );

    // The invited person has no account: the link offers a short form that joins at once.
    let link = link_from_outbox(&app, "member@example.vn", "team_invitation").await;
    let path = path_of(&link);
    assert!(
        path.starts_with("/team-invitations/accept?token="),
        "{path}"
    );
    let member = Other::new(&app);
    let (status, html) = member.page(&path).await;
    assert_eq!(status, 200);
    assert!(html.contains("«Đội Hoa Sen»") && html.contains("id=\"register-form\""));
    let token = token_of(&link);
    let resp = member
        .submit(
            &path,
            "/team-invitations/accept/new-account",
            &[
                ("token", &token),
                ("full_name", "Mai Văn Hùng"),
                ("password", "123"),
                ("organization", "FPT"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-password-error\">Cần ít nhất 10 ký tự."));
    assert!(html.contains("value=\"Mai Văn Hùng\""));
    let resp = member
        .submit(
            &path,
            "/team-invitations/accept/new-account",
            &[
                ("token", &token),
                ("full_name", "Mai Văn Hùng"),
                ("password", "gió Lào thổi qua đèo Ngang"),
                ("organization", "FPT"),
                ("lang", "vi"),
            ],
        )
        .await;
    assert_eq!(location(&resp), "/team?m=joined");
    let (_, html) = member.page("/team?m=joined").await;
    assert!(html.contains("id=\"who\">Mai Văn Hùng<"), "logged in");
    assert!(html.contains("Lý Thị Lan") && html.contains("Mai Văn Hùng"));
    assert!(
        !html.contains("lead@example.vn"),
        "members do not see addresses"
    );
    assert!(!html.contains("id=\"invite-form\"") && !html.contains("action=\"/team/remove\""));
    assert!(html.contains("action=\"/team/leave\""));

    // The leader sees the member's address; cannot leave while others remain; hands over.
    let (_, html) = page(&app, "/team").await;
    assert!(html.contains("member@example.vn") && !html.contains("action=\"/team/leave\""));
    let member_id = user_by_email(app.store.pool(), "member@example.vn")
        .await
        .expect("q")
        .expect("user")
        .id;
    let resp = submit(
        &app,
        "/team",
        "/team/hand-over",
        &[("team_id", &team_id), ("user_id", &member_id)],
    )
    .await;
    assert_eq!(location(&resp), "/team?m=handed-over");
    let (_, html) = page(&app, "/team?m=handed-over").await;
    assert!(
        html.contains("Đã chuyển quyền trưởng nhóm.") && html.contains("action=\"/team/leave\"")
    );
    // The new leader removes the old one.
    let lead_id = user_by_email(app.store.pool(), "lead@example.vn")
        .await
        .expect("q")
        .expect("user")
        .id;
    let resp = member
        .submit(
            "/team",
            "/team/remove",
            &[("team_id", &team_id), ("user_id", &lead_id)],
        )
        .await;
    assert_eq!(location(&resp), "/team?m=removed");
    let (_, html) = page(&app, "/team").await;
    assert!(html.contains("id=\"create-form\""), "no team any more");
    // A refused action shows its message on the page.
    let resp = submit(&app, "/team", "/team/leave", &[("team_id", &team_id)]).await;
    assert_eq!(resp.status().as_u16(), 404);
    // The last member leaves: the team is dissolved.
    let resp = member
        .submit("/team", "/team/leave", &[("team_id", &team_id)])
        .await;
    assert_eq!(location(&resp), "/team?m=left");
    let (_, html) = member.page("/team?m=left").await;
    assert!(html.contains("Bạn đã rời đội.") && html.contains("id=\"create-form\""));
}

async fn invitation_pages_offer_the_right_step(backend: Backend) {
    let app = spawn_app(backend).await;
    register(&app, "lead2@example.vn", "Tạ Quang Bửu").await;
    verify(&app, "lead2@example.vn").await;
    register(&app, "friend@example.vn", "Hồ Xuân Hương").await;
    assert_eq!(
        login(&app, "lead2@example.vn", PASSWORD).await.status(),
        303
    );
    let resp = submit(
        &app,
        "/team",
        "/team",
        &[
            ("name", "Đội Bút Nghiên"),
            ("kind", "individual"),
            ("province", "Hà Nội"),
            ("organization", "Tự do"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/team?m=created");
    let (_, html) = page(&app, "/team").await;
    let team_id = hidden(&html, "team_id");
    let resp = submit(
        &app,
        "/team",
        "/team/invite",
        &[("team_id", &team_id), ("email", "friend@example.vn")],
    )
    .await;
    assert_eq!(location(&resp), "/team?m=invited");
    let link = link_from_outbox(&app, "friend@example.vn", "team_invitation").await;
    let path = path_of(&link);

    // Logged in with another address: told so, no button.
    let (_, html) = page(&app, &path).await;
    assert!(
        html.contains("đang đăng nhập bằng một địa chỉ email khác")
            && !html.contains("id=\"accept\"")
    );
    // Not logged in, the address has an account: log in and come back.
    let friend = Other::new(&app);
    let (_, html) = friend.page(&path).await;
    assert!(html.contains("id=\"login-to-accept\""), "{html}");
    let next = format!("/login?next={}", urlencode(&path));
    assert!(html.contains(&format!("href=\"{next}\"")), "{html}");
    let resp = friend
        .submit(
            &next,
            "/login",
            &[
                ("email", "friend@example.vn"),
                ("password", PASSWORD),
                ("next", &path),
            ],
        )
        .await;
    assert_eq!(location(&resp), path);
    // Logged in with the invited address (not verified yet: the link proves it).
    let (_, html) = friend.page(&path).await;
    assert!(html.contains("id=\"accept\""));
    let resp = friend
        .submit(
            &path,
            "/team-invitations/accept",
            &[("token", &token_of(&link))],
        )
        .await;
    assert_eq!(location(&resp), "/team?m=joined");
    let (_, html) = friend.page("/team").await;
    assert!(html.contains("id=\"team-name\">Đội Bút Nghiên<"));
    assert!(
        user_by_email(app.store.pool(), "friend@example.vn")
            .await
            .expect("q")
            .expect("u")
            .email_verified_at
            .is_some()
    );
    // Used up.
    let (status, html) = friend.page(&path).await;
    assert_eq!(status, 410);
    assert!(html.contains("Liên kết không hợp lệ"));
    let (status, _) = page(&app, "/team-invitations/accept?token=nope").await;
    assert_eq!(status, 410);
    let (status, _) = page(&app, "/judge-invitations/accept?token=nope").await;
    assert_eq!(status, 410);
}

async fn make_organizer(app: &TestApp, email: &str, name: &str) {
    register(app, email, name).await;
    verify(app, email).await;
    let user = user_by_email(app.store.pool(), email)
        .await
        .expect("q")
        .expect("user");
    update_user(
        app.store.pool(),
        &user.id,
        UserChange::Role(Role::Organizer),
        dxcontest::service::now_ms(),
    )
    .await
    .expect("made organizer");
}

async fn organizer_pages_invite_judges_manage_users_mail_and_audit(backend: Backend) {
    let app = spawn_app(backend).await;
    make_organizer(&app, "btc@example.vn", "Ban Tổ Chức").await;
    register(&app, "ts@example.vn", "Thí Sinh Một").await;
    verify(&app, "ts@example.vn").await;
    let resp = login(&app, "btc@example.vn", PASSWORD).await;
    assert_eq!(location(&resp), "/organizer/users");

    // Judges: a bad address, then an invitation that is listed and mailed.
    let resp = submit(
        &app,
        "/organizer/judges",
        "/organizer/judges",
        &[("email", "abc"), ("lang", "vi")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("id=\"f-email-error\">Địa chỉ email không hợp lệ.")
    );
    let resp = submit(
        &app,
        "/organizer/judges",
        "/organizer/judges",
        &[("email", "gk@example.vn"), ("lang", "en")],
    )
    .await;
    assert_eq!(location(&resp), "/organizer/judges?m=invited");
    let (_, html) = page(&app, "/organizer/judges?m=invited").await;
    assert!(html.contains("<strong>gk@example.vn</strong>") && html.contains("Đang chờ"));
    let (_, html) = page(&app, "/organizer/judges?status=accepted").await;
    assert!(!html.contains("gk@example.vn"));
    // The judge creates an account from the link and is logged in.
    let link = link_from_outbox(&app, "gk@example.vn", "judge_invitation").await;
    let path = path_of(&link);
    assert!(
        path.starts_with("/judge-invitations/accept?token="),
        "{path}"
    );
    let judge = Other::new(&app);
    let (_, html) = judge.page(&path).await;
    assert!(html.contains("Ban Tổ Chức") && html.contains("id=\"register-form\""));
    let resp = judge
        .submit(
            &path,
            "/judge-invitations/accept/new-account",
            &[
                ("token", &token_of(&link)),
                ("full_name", "Giám Khảo Hai"),
                ("password", "trăng rằm mười sáu tròn vành"),
                ("organization", "Viện KHCN"),
                ("lang", "vi"),
            ],
        )
        .await;
    assert_eq!(location(&resp), "/account?m=judge");
    let (_, html) = judge.page("/account?m=judge").await;
    assert!(html.contains("Bạn đã nhận lời làm giám khảo") && html.contains("Giám khảo"));
    let (status, _) = judge.page("/organizer/users").await;
    assert_eq!(status, 403);
    let (status, _) = judge.page("/team").await;
    assert_eq!(status, 403, "judges have no team page");

    // Users: search, filter, disable (the account cannot log in), enable.
    let (_, html) = page(&app, "/organizer/users?q=thí+sinh").await;
    assert!(
        html.contains("ts@example.vn") && !html.contains("gk@example.vn"),
        "{html}"
    );
    let (_, html) = page(&app, "/organizer/users?role=judge").await;
    assert!(html.contains("gk@example.vn") && !html.contains("ts@example.vn"));
    let ts_id = user_by_email(app.store.pool(), "ts@example.vn")
        .await
        .expect("q")
        .expect("u")
        .id;
    let back = "/organizer/users?q=ts%40example.vn&page=1";
    let resp = submit(
        &app,
        back,
        "/organizer/users/disable",
        &[("user_id", &ts_id), ("back", back)],
    )
    .await;
    assert_eq!(location(&resp), format!("{back}&m=disabled"));
    let (_, html) = page(&app, &location(&resp)).await;
    assert!(html.contains("đã khoá") && html.contains("action=\"/organizer/users/enable\""));
    let other = Other::new(&app);
    let resp = other
        .submit(
            "/login",
            "/login",
            &[("email", "ts@example.vn"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Tài khoản này đã bị khoá")
    );
    let resp = submit(
        &app,
        back,
        "/organizer/users/enable",
        &[("user_id", &ts_id), ("back", "https://evil.example/")],
    )
    .await;
    assert_eq!(location(&resp), "/organizer/users?m=enabled");
    // Organizers cannot disable themselves: no button for their own row.
    let (_, html) = page(&app, "/organizer/users?q=btc%40example.vn").await;
    assert!(!html.contains("action=\"/organizer/users/disable\""));

    // Outbox: counts, a failed message retried.
    let (rows, _) = app
        .store
        .list_outbox(&OutboxFilter {
            kind: Some("account_disabled".into()),
            limit: 5,
            ..OutboxFilter::default()
        })
        .await
        .expect("outbox");
    let failed_id = rows.first().expect("the disabled notice").id.clone();
    sqlx::query("UPDATE outbox SET status = 'failed', last_error = 'smtp: 550 mailbox unavailable' WHERE id = $1")
        .bind(&failed_id)
        .execute(app.store.pool())
        .await
        .expect("marked failed");
    let (_, html) = page(&app, "/organizer/outbox?status=failed").await;
    assert!(
        html.contains("550 mailbox unavailable")
            && html.contains("action=\"/organizer/outbox/retry\"")
    );
    assert!(html.contains("id=\"count-failed\"") && html.contains("aria-current=\"page\">Gửi lỗi"));
    let resp = submit(
        &app,
        "/organizer/outbox?status=failed",
        "/organizer/outbox/retry",
        &[
            ("id", &failed_id),
            ("back", "/organizer/outbox?status=failed&page=1"),
        ],
    )
    .await;
    assert_eq!(
        location(&resp),
        "/organizer/outbox?status=failed&page=1&m=retried"
    );
    let (_, html) = page(&app, "/organizer/outbox?status=failed").await;
    assert!(html.contains("Không có thư nào."), "no failed message left");
    let (_, html) = page(&app, "/organizer/outbox?kind=judge_invitation").await;
    assert!(html.contains("gk@example.vn") && !html.contains("ts@example.vn"));

    // Audit: newest first, filtered by action and actor.
    let (_, html) = page(&app, "/organizer/audit").await;
    let enable = html
        .find("<code>user.enable</code>")
        .expect("enable audited");
    let disable = html
        .find("<code>user.disable</code>")
        .expect("disable audited");
    assert!(enable < disable, "newest first");
    let (_, html) = page(&app, "/organizer/audit?action=user.disable").await;
    assert!(html.contains("user.disable") && !html.contains("<code>user.enable</code>"));
    let (_, html) = page(&app, "/organizer/audit?actor=gk%40example.vn").await;
    assert!(
        html.contains("judge.accept_invitation_new_account")
            && !html.contains("<code>user.disable</code>")
    );
    let (status, html) = page(&app, "/organizer/audit?actor=not%40valid").await;
    assert_eq!(status, 422);
    assert!(html.contains("Địa chỉ email không hợp lệ."));
}
