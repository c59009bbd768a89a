//! The organizers' timeline page over HTTP, as browsers use it (each person with their own
//! cookies): the timeline in Vietnam time, saving a new one (the API then shows it in UTC),
//! refusals under the field at fault, extensions granted, listed and revoked; participants get a
//! 403 page and anonymous visitors the login page.

use dxcontest::domain::account::Role;
use dxcontest::i18n::Lang;
use serde_json::Value;

use crate::admin::{NO_SUCH_ID, PASSWORD, make_organizer, make_user};
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::entries::seed_team;
use crate::on_both_backends;
use crate::web_accounts::{csrf_in, fresh_client};

on_both_backends!(
    organizers_see_and_change_the_timeline_in_vietnam_time,
    organizers_grant_list_and_revoke_extensions,
    participants_and_anonymous_visitors_are_kept_out,
);

const PAGE: &str = "/organizer/timeline";
const GRANT: &str = "/organizer/timeline/extensions";
const REVOKE: &str = "/organizer/timeline/extensions/revoke";

/// One browser: its own cookie jar, no automatic redirects.
struct Web {
    client: reqwest::Client,
    base: String,
}

impl Web {
    fn new(app: &TestApp) -> Web {
        Web {
            client: fresh_client(),
            base: app.base.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("sent")
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// Opens `form_path` (which must open), then posts `fields` to `action` with its CSRF token.
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
            .post(self.url(action))
            .form(&all)
            .send()
            .await
            .expect("posted")
    }

    async fn login(&self, email: &str) {
        let resp = self
            .submit(
                "/login",
                "/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(resp.status().as_u16(), 303, "login {email}");
    }
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The text of the error shown under `field`, if any.
fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("id=\"f-{field}-error\">");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find("</p>")?;
    Some(html[start..start + len].to_owned())
}

/// The `value` of the input named `field` (the first one on the page).
fn input_value(html: &str, field: &str) -> String {
    let marker = format!("name=\"{field}\" ");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("an input named {field}"));
    let rest = &html[start..];
    let v = rest.find("value=\"").expect("a value") + "value=\"".len();
    let len = rest[v..].find('"').expect("end of value");
    rest[v..v + len].to_owned()
}

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        &[
            ("rate_limits.login_per_ip", 1000.into()),
            ("rate_limits.login_per_account", 1000.into()),
        ],
    )
    .await
}

async fn organizer(app: &TestApp) -> Web {
    make_organizer(app, "ban.to.chuc@dx.gov.vn", "Trần Ban Tổ Chức").await;
    let web = Web::new(app);
    web.login("ban.to.chuc@dx.gov.vn").await;
    web
}

async fn api_timeline(app: &TestApp) -> Value {
    let (status, body) = app.get_json("/api/v1/timeline").await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A timeline form, in Vietnam time.
fn timeline_fields<'a>(
    reg_opens: &'a str,
    reg_closes: &'a str,
    sub_opens: &'a str,
    deadline: &'a str,
    grace: &'a str,
) -> [(&'static str, &'a str); 5] {
    [
        ("registration_opens", reg_opens),
        ("registration_closes", reg_closes),
        ("submission_opens", sub_opens),
        ("submission_deadline", deadline),
        ("grace_minutes", grace),
    ]
}

async fn organizers_see_and_change_the_timeline_in_vietnam_time(backend: Backend) {
    let app = app(backend).await;
    let web = organizer(&app).await;

    // The header links to the page; the config's timeline is shown in GMT+7.
    let (status, home) = web.page("/account").await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/organizer/timeline\""), "{home}");
    let (status, html) = web.page(PAGE).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-saved=\"false\""), "{html}");
    assert!(html.contains("01/01/2020 00:00 (GMT+7)"), "{html}");
    assert!(html.contains("31/12/2099 17:00 (GMT+7)"), "{html}");
    assert!(html.contains("data-window=\"open\""), "{html}");
    assert!(html.contains("id=\"server-now\""));
    assert!(html.contains("type=\"datetime-local\""));
    assert_eq!(input_value(&html, "registration_opens"), "2020-01-01T00:00");
    assert_eq!(
        input_value(&html, "submission_deadline"),
        "2099-12-31T17:00"
    );
    assert_eq!(input_value(&html, "grace_minutes"), "0");
    let before = api_timeline(&app).await;
    assert_eq!(before["saved"], false);

    // A new timeline, entered in Vietnam time, is saved; the API shows it in UTC.
    let resp = web
        .submit(
            PAGE,
            PAGE,
            &timeline_fields(
                "2020-01-01T08:00",
                "2098-06-30T17:00",
                "2020-02-01T08:00",
                "2098-12-31T23:30",
                "30",
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/organizer/timeline?m=saved");
    let t = api_timeline(&app).await;
    assert_eq!(t["saved"], true, "{t}");
    assert_eq!(t["registration_opens"], "2020-01-01T01:00:00Z");
    assert_eq!(t["registration_closes"], "2098-06-30T10:00:00Z");
    assert_eq!(t["submission_opens"], "2020-02-01T01:00:00Z");
    assert_eq!(t["submission_deadline"], "2098-12-31T16:30:00Z");
    assert_eq!(t["grace_minutes"], 30);
    let (status, html) = web.page("/organizer/timeline?m=saved").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"flash\""), "{html}");
    assert!(html.contains("data-saved=\"true\""), "{html}");
    assert!(html.contains("31/12/2098 23:30 (GMT+7)"), "{html}");
    assert_eq!(
        input_value(&html, "submission_deadline"),
        "2098-12-31T23:30"
    );
    assert_eq!(input_value(&html, "grace_minutes"), "30");

    // Registration closing before it opens: the error is under that field; nothing is saved.
    let resp = web
        .submit(
            PAGE,
            PAGE,
            &timeline_fields(
                "2020-01-01T08:00",
                "2019-12-31T08:00",
                "2020-02-01T08:00",
                "2098-12-31T23:30",
                "30",
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(
        field_error(&html, "registration_closes").is_some_and(|e| !e.is_empty()),
        "{html}"
    );
    for other in [
        "registration_opens",
        "submission_opens",
        "submission_deadline",
        "grace_minutes",
    ] {
        assert_eq!(field_error(&html, other), None, "{other}: {html}");
    }
    // What was typed is kept.
    assert_eq!(
        input_value(&html, "registration_closes"),
        "2019-12-31T08:00"
    );
    let after = api_timeline(&app).await;
    for k in [
        "registration_opens",
        "registration_closes",
        "submission_opens",
        "submission_deadline",
        "grace_minutes",
    ] {
        assert_eq!(after[k], t[k], "{k}");
    }

    // A grace period over a day is refused under its field.
    let resp = web
        .submit(
            PAGE,
            PAGE,
            &timeline_fields(
                "2020-01-01T08:00",
                "2098-06-30T17:00",
                "2020-02-01T08:00",
                "2098-12-31T23:30",
                "1441",
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(field_error(&html, "grace_minutes").is_some(), "{html}");
    assert_eq!(api_timeline(&app).await["grace_minutes"], 30);

    // A date that does not parse is named, in Vietnamese by default...
    let resp = web
        .submit(
            PAGE,
            PAGE,
            &timeline_fields(
                "2020-01-01T08:00",
                "2098-06-30T17:00",
                "2020-02-01T08:00",
                "31/12/2098 23:30",
                "30",
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    let e = field_error(&html, "submission_deadline").expect("an error under the deadline");
    assert!(e.contains("Hạn nộp bài"), "{e}");
    assert_eq!(field_error(&html, "registration_opens"), None);
    assert_eq!(
        input_value(&html, "submission_deadline"),
        "31/12/2098 23:30"
    );
    assert_eq!(
        api_timeline(&app).await["submission_deadline"],
        "2098-12-31T16:30:00Z"
    );

    // ...and in English with ?lang=en; every field at fault gets its own message.
    let resp = web
        .submit(
            "/organizer/timeline?lang=en",
            "/organizer/timeline?lang=en",
            &timeline_fields(
                "",
                "2098-06-30T17:00",
                "2020-02-01T08:00",
                "2098-12-31T23:30",
                "half an hour",
            ),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    let e = field_error(&html, "grace_minutes").expect("an error under the grace");
    assert!(e.contains("Grace period"), "{e}");
    let e = field_error(&html, "registration_opens").expect("an error under the opening");
    assert!(e.contains("Registration opens"), "{e}");
    assert_eq!(api_timeline(&app).await["grace_minutes"], 30);
}

async fn organizers_grant_list_and_revoke_extensions(backend: Backend) {
    let app = app(backend).await;
    let web = organizer(&app).await;
    let team = seed_team(&app, "giahan", &[Lang::Vi], "not-a-real-hash").await;

    let (_, html) = web.page(PAGE).await;
    assert!(html.contains("Chưa đội nào được gia hạn."), "{html}");
    // A link (e.g. from an entry) can fill in the team.
    let (_, html) = web
        .page(&format!("/organizer/timeline?team={}", team.id))
        .await;
    assert!(html.contains(&format!("value=\"{}\"", team.id)), "{html}");

    // Not after the contest's deadline (31/12/2099 17:00): refused under the deadline.
    let resp = web
        .submit(
            PAGE,
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "2099-06-01T08:00"),
                ("reason", "Mất điện diện rộng"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(field_error(&html, "deadline").is_some(), "{html}");
    assert_eq!(field_error(&html, "team_id"), None);
    // What was typed is kept.
    assert!(html.contains("value=\"Mất điện diện rộng\""), "{html}");

    // No reason: refused under the reason.
    let resp = web
        .submit(
            PAGE,
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "2100-01-05T17:00"),
                ("reason", "  "),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(field_error(&html, "reason").is_some(), "{html}");

    // An unknown team and an unreadable deadline.
    let resp = web
        .submit(
            PAGE,
            GRANT,
            &[
                ("team_id", NO_SUCH_ID),
                ("deadline", "2100-01-05T17:00"),
                ("reason", "Mất điện"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(field_error(&html, "team_id").is_some(), "{html}");
    let resp = web
        .submit(
            PAGE,
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "5/1/2100"),
                ("reason", "Mất điện"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    let e = field_error(&html, "deadline").expect("an error under the deadline");
    assert!(e.contains("Hạn nộp mới"), "{e}");
    let (_, html) = web.page(PAGE).await;
    assert!(html.contains("Chưa đội nào được gia hạn."), "{html}");

    // Granted: listed with the deadline in Vietnam time and the reason.
    let resp = web
        .submit(
            PAGE,
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "2100-01-05T17:00"),
                ("reason", "Mất điện diện rộng ở Cần Thơ"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/organizer/timeline?m=granted");
    let (status, html) = web.page("/organizer/timeline?m=granted").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"flash\""), "{html}");
    assert!(
        html.contains(&format!("data-team-id=\"{}\"", team.id)),
        "{html}"
    );
    assert!(html.contains("Đội giahan"), "{html}");
    assert!(html.contains("05/01/2100 17:00 (GMT+7)"), "{html}");
    assert!(html.contains("Mất điện diện rộng ở Cần Thơ"), "{html}");
    assert!(html.contains("action=\"/organizer/timeline/extensions/revoke\""));

    // The API agrees, in UTC.
    let token = crate::admin::login(&app, "ban.to.chuc@dx.gov.vn").await;
    let (status, list) = crate::admin::get(&app, "/api/v1/extensions", &token).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["team_id"], team.id.as_str());
    assert_eq!(list[0]["deadline"], "2100-01-05T10:00:00Z");

    // Revoked: gone from the list; revoking again says so on the page.
    let resp = web.submit(PAGE, REVOKE, &[("team_id", &team.id)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/organizer/timeline?m=revoked");
    let (_, html) = web.page("/organizer/timeline?m=revoked").await;
    assert!(html.contains("Chưa đội nào được gia hạn."), "{html}");
    assert!(!html.contains("data-team-id="), "{html}");
    let (_, list) = crate::admin::get(&app, "/api/v1/extensions", &token).await;
    assert_eq!(list, Value::Array(vec![]));
    let resp = web.submit(PAGE, REVOKE, &[("team_id", &team.id)]).await;
    assert_eq!(resp.status().as_u16(), 404);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"form-error\""), "{html}");
}

async fn participants_and_anonymous_visitors_are_kept_out(backend: Backend) {
    let app = app(backend).await;
    let team = seed_team(&app, "ngoai", &[Lang::Vi], "not-a-real-hash").await;

    // Anonymous: the login page, coming back here (also after a form post).
    let anon = Web::new(&app);
    let resp = anon.get(PAGE).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?next=%2Forganizer%2Ftimeline");
    let resp = anon
        .submit(
            "/login",
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "2100-01-05T17:00"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/login?next=%2Forganizer%2Ftimeline");

    // A participant: 403 pages, no link, nothing changed.
    make_user(
        &app,
        "thi.sinh@truong.edu.vn",
        "Lê Thí Sinh",
        Role::Participant,
    )
    .await;
    let web = Web::new(&app);
    web.login("thi.sinh@truong.edu.vn").await;
    let (status, html) = web.page(PAGE).await;
    assert_eq!(status, 403);
    assert!(html.contains("Không có quyền truy cập"), "{html}");
    let (_, html) = web.page("/account").await;
    assert!(!html.contains("href=\"/organizer/timeline\""), "{html}");
    let fields = timeline_fields(
        "2020-01-01T08:00",
        "2098-06-30T17:00",
        "2020-02-01T08:00",
        "2098-12-31T23:30",
        "30",
    );
    let resp = web.submit("/account", PAGE, &fields).await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = web
        .submit(
            "/account",
            GRANT,
            &[
                ("team_id", &team.id),
                ("deadline", "2100-01-05T17:00"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = web
        .submit("/account", REVOKE, &[("team_id", &team.id)])
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(api_timeline(&app).await["saved"], false);
}
