//! The entry pages over HTTP, as browsers use them (each person with their own cookies): a team
//! enters a problem, saves its text, uploads a file through the page's upload route (CSRF in a
//! header), submits and lands on the receipt, withdraws; organizers list with counts, move
//! statuses one at a time and in bulk, download files and the CSV; others are kept out.

use dxcontest::domain::account::Role;
use dxcontest::domain::entry::EntryStatus;
use dxcontest::store::entries::{current_attachments, entry_by_id, versions};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::admin::{PASSWORD, make_organizer, make_user};
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;
use crate::web_accounts::csrf_in;

on_both_backends!(
    a_team_enters_uploads_submits_and_withdraws,
    organizers_list_count_change_statuses_and_export,
    other_teams_and_anonymous_visitors_are_kept_out,
);

/// A small but real PDF.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One browser: its own cookie jar, no automatic redirects.
struct Web {
    client: reqwest::Client,
    base: String,
}

impl Web {
    fn new(app: &TestApp) -> Web {
        Web {
            client: crate::web_accounts::fresh_client(),
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

    /// The CSRF token of the forms on `path` (which must open).
    async fn csrf(&self, path: &str) -> String {
        let (status, html) = self.page(path).await;
        assert_eq!(status, 200, "{path}: {html}");
        csrf_in(&html)
    }

    async fn post(&self, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(action))
            .form(fields)
            .send()
            .await
            .expect("posted")
    }

    /// Opens `form_path`, then posts `fields` to `action` with the page's CSRF token.
    async fn submit(
        &self,
        form_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(form_path).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.post(action, &all).await
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

    /// Sends a file to the page's upload route, with `csrf` in `X-CSRF-Token` when given.
    async fn upload(
        &self,
        entry: &str,
        name: &str,
        body: &[u8],
        csrf: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url(&format!("/entries/{entry}/attachments")))
            .query(&[("name", name)])
            .header("content-type", "application/octet-stream")
            .body(body.to_vec());
        if let Some(t) = csrf {
            req = req.header("X-CSRF-Token", t);
        }
        let resp = req.send().await.expect("upload sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
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

/// A verified participant, logged in on their own browser, leading a new team.
async fn team_member(app: &TestApp, email: &str, name: &str, team: &str) -> Web {
    make_user(app, email, name, Role::Participant).await;
    let web = Web::new(app);
    web.login(email).await;
    let resp = web
        .submit(
            "/team",
            "/team",
            &[
                ("name", team),
                ("kind", "student"),
                ("province", "Hà Nội"),
                ("organization", "Đại học Quốc gia Hà Nội"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303, "team {team}");
    web
}

/// Enters `code` from the list page; returns the new entry's id.
async fn create_entry(web: &Web, code: &str, title: &str) -> String {
    let resp = web
        .submit(
            "/entries",
            "/entries",
            &[("problem_code", code), ("title", title)],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    let id = to
        .strip_prefix("/entries/")
        .and_then(|rest| rest.strip_suffix("?m=created"))
        .unwrap_or_else(|| panic!("redirect to the new entry: {to}"));
    id.to_owned()
}

fn full_text(title: &str) -> Vec<(&str, &str)> {
    vec![
        ("title", title),
        ("summary", "Nền tảng số hoá thủ tục cho người dân."),
        (
            "description",
            "## Kiến trúc\n\n- Máy chủ Rust\n- Cơ sở dữ liệu PostgreSQL\n\n<script>alert(1)</script>",
        ),
        ("maturity", "pilot"),
        ("deployed_where", "UBND tỉnh Nghệ An"),
        ("technologies", "Rust, PostgreSQL"),
        ("experience", "Năm năm làm dịch vụ công trực tuyến."),
        ("demo_url", "https://demo.example.vn/app"),
        ("video_url", ""),
    ]
}

/// Saves a complete text, uploads the PDF and submits from the edit form; returns the receipt
/// path.
async fn complete_and_submit(web: &Web, id: &str, title: &str) -> String {
    let path = format!("/entries/{id}");
    let csrf = web.csrf(&path).await;
    let (status, body) = web.upload(id, "Thuyết minh.pdf", PDF, Some(&csrf)).await;
    assert_eq!(status, 201, "{body}");
    let mut fields = full_text(title);
    fields.push(("save", "1"));
    let resp = web.submit(&path, &format!("{path}/submit"), &fields).await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    assert!(to.starts_with(&format!("{path}/receipts/")), "{to}");
    to
}

async fn status_of(app: &TestApp, id: &str) -> EntryStatus {
    entry_by_id(app.store.pool(), id)
        .await
        .expect("query")
        .expect("entry")
        .status
}

async fn a_team_enters_uploads_submits_and_withdraws(backend: Backend) {
    let app = app(backend).await;
    let web = team_member(&app, "lan@example.vn", "Lý Thị Lan", "Đội Sen Hồng").await;

    // The list: the team's deadline in Vietnam time, the server's time, what is left, the form.
    let (status, html) = web.page("/entries").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("31/12/2099 17:00 (GMT+7)"), "deadline in ICT");
    assert!(html.contains("id=\"server-time\""));
    let remaining = html.split("id=\"remaining\"").nth(1).expect("time left");
    assert!(
        remaining.contains(">còn ") && remaining.contains(" ngày "),
        "{remaining:.80}"
    );
    assert!(html.contains("id=\"create-form\"") && html.contains("<option value=\"BT-01\""));
    assert!(
        html.contains("href=\"/entries\" id=\"entries-link\""),
        "nav link"
    );

    // A missing title is refused under its field; the problem stays chosen.
    let resp = web
        .submit(
            "/entries",
            "/entries",
            &[("problem_code", "BT-07"), ("title", "  ")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(
        html.contains("id=\"f-title-error\">Không được để trống."),
        "{html}"
    );
    assert!(html.contains("<option value=\"BT-07\" selected"));

    let id = create_entry(&web, "BT-07", "Cổng dịch vụ công một cửa").await;
    let path = format!("/entries/{id}");
    let (status, html) = web.page(&format!("{path}?m=created")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"flash\""));
    assert!(html.contains("id=\"entry-form\""));
    for name in ["Ý tưởng", "Sản phẩm mẫu", "Thí điểm", "Đã triển khai"] {
        assert!(html.contains(&format!(">{name}</option>")), "{name}");
    }
    assert!(
        html.contains("id=\"delete\""),
        "a draft never submitted may be deleted"
    );
    // The same problem cannot be entered twice: its option is disabled now.
    let (_, list) = web.page("/entries").await;
    assert!(
        list.contains("<option value=\"BT-07\" disabled>"),
        "taken problem"
    );

    // A bad address is refused under its field and the other input is kept.
    let mut bad = full_text("Cổng dịch vụ công một cửa");
    bad.retain(|(k, _)| *k != "demo_url");
    bad.push(("demo_url", "javascript:alert(1)"));
    let resp = web.submit(&path, &path, &bad).await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"f-demo_url-error\""), "{html}");
    assert!(html.contains("UBND tỉnh Nghệ An"), "input kept");

    // Saved; the description is Markdown, rendered without the script.
    let resp = web
        .submit(&path, &path, &full_text("Cổng dịch vụ công một cửa"))
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{path}?m=saved"));
    let (_, html) = web.page(&path).await;
    assert!(html.contains("<h2>Kiến trúc</h2>") && html.contains("<li>Máy chủ Rust</li>"));
    assert!(
        !html.contains("<script>alert(1)"),
        "no script from the text"
    );

    // Uploads go through the page's route with the CSRF token in a header.
    let csrf = csrf_in(&html);
    let (status, body) = web.upload(&id, "Thuyết minh.pdf", PDF, None).await;
    assert_eq!(status, 403, "no header: {body}");
    assert!(
        body["error"]
            .as_str()
            .expect("message")
            .contains("Biểu mẫu")
    );
    let (status, _) = web
        .upload(&id, "Thuyết minh.pdf", PDF, Some("not-the-token"))
        .await;
    assert_eq!(status, 403, "wrong header");
    let stranger = Web::new(&app);
    let (status, _) = stranger
        .upload(&id, "Thuyết minh.pdf", PDF, Some(&csrf))
        .await;
    assert_eq!(status, 403, "no cookies, no upload");
    assert!(
        current_attachments(app.store.pool(), &id)
            .await
            .expect("q")
            .is_empty(),
        "nothing stored by refused uploads"
    );
    let (status, body) = web
        .upload(&id, "Ảnh.pdf", b"\x89PNG\r\n\x1a\nnot a pdf", Some(&csrf))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "file");
    assert!(
        body["error"].as_str().expect("message").contains("PNG"),
        "{body}"
    );
    let (status, body) = web.upload(&id, "Thuyết minh.pdf", PDF, Some(&csrf)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["ok"], true);
    assert_eq!(body["attachment"]["sha256"], sha256_hex(PDF));
    let aid = body["attachment"]["id"].as_str().expect("id").to_owned();

    // Listed with a download link; the download is the same bytes, never sniffed or inline.
    let (_, html) = web.page(&format!("{path}?m=uploaded")).await;
    assert!(html.contains("Thuyết minh.pdf") && html.contains(&sha256_hex(PDF)));
    let href = format!("{path}/attachments/{aid}");
    assert!(html.contains(&format!("href=\"{href}\"")));
    let resp = web.get(&href).await;
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().expect("ascii").to_owned();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''Thuy%E1%BA%BFt%20minh.pdf"),
        "{disposition}"
    );
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), PDF);

    // Submit from the edit form: saved, frozen, and the receipt page shows the hash.
    let csrf = web.csrf(&path).await;
    let key = "k3yFromThePage-0123456789";
    let mut fields = full_text("Cổng dịch vụ công một cửa");
    fields.extend([("save", "1"), ("key", key), ("csrf", csrf.as_str())]);
    let resp = web.post(&format!("{path}/submit"), &fields).await;
    assert_eq!(resp.status().as_u16(), 303);
    let receipt = location(&resp);
    assert_eq!(receipt, format!("{path}/receipts/1?m=submitted"));
    // A double click sends the same again: the same receipt, no second version.
    let resp = web.post(&format!("{path}/submit"), &fields).await;
    assert_eq!(location(&resp), receipt);
    let stored = versions(app.store.pool(), &id).await.expect("versions");
    assert_eq!(stored.len(), 1);
    let hash = stored[0].content_sha256.clone();
    assert_eq!(hash.len(), 64);

    let (status, html) = web.page(&receipt).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<code class=\"hash\" id=\"sha256\">{hash}</code>")));
    assert!(html.contains(&format!("<code id=\"entry-id\">{id}</code>")));
    assert!(html.contains("id=\"version\">1<"));
    assert!(html.contains("Lý Thị Lan"), "the submitter by name");
    assert!(html.contains("Đúng hạn") && !html.contains("Nộp muộn (trong"));
    assert!(html.contains(&sha256_hex(PDF)), "the file's hash");
    assert!(html.contains("(GMT+7)") && html.contains("id=\"submitted-at-utc\""));
    assert!(html.contains("Biên nhận này cũng đã được gửi"), "flash");

    // The entry shows the version with its receipt; it is submitted.
    let (_, html) = web.page(&path).await;
    assert!(html.contains("data-status=\"submitted\""));
    assert!(html.contains(&format!("href=\"{path}/receipts/1\"")));
    assert!(
        !html.contains("id=\"delete\""),
        "a submitted entry is not deleted"
    );
    assert!(html.contains("id=\"withdraw\""));

    // Withdraw; a second withdrawal is refused with a message, not an error page.
    let resp = web.submit(&path, &format!("{path}/withdraw"), &[]).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{path}?m=withdrawn"));
    assert_eq!(status_of(&app, &id).await, EntryStatus::Withdrawn);
    let (_, html) = web.page(&path).await;
    assert!(html.contains("data-status=\"withdrawn\""));
    assert!(
        html.contains("Đã nộp → <span class=\"tag \">Đã rút</span>"),
        "history"
    );
    let csrf = csrf_in(&html);
    let resp = web
        .post(&format!("{path}/withdraw"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(html.contains("id=\"form-error\""), "{html}");

    // Removing the file from the draft keeps it with version 1.
    let resp = web
        .post(
            &format!("{path}/attachments/{aid}/remove"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(
        current_attachments(app.store.pool(), &id)
            .await
            .expect("q")
            .is_empty()
    );
    let (status, html) = web.page(&format!("{path}/receipts/1")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Thuyết minh.pdf"),
        "the receipt still lists it"
    );

    // In English on request.
    let (_, html) = web.page("/entries?lang=en").await;
    assert!(html.contains("Your team&#39;s entries") || html.contains("Your team's entries"));
    assert!(html.contains(" left<"), "time left in English");
}

async fn organizers_list_count_change_statuses_and_export(backend: Backend) {
    let app = app(backend).await;
    let a = team_member(&app, "an@example.vn", "Lê Văn An", "Đội Lúa Vàng").await;
    let b = team_member(&app, "binh@example.vn", "Trần Thị Bình", "Đội Mây Trắng").await;
    let a1 = create_entry(&a, "BT-01", "Cửa khẩu thông minh").await;
    let a2 = create_entry(&a, "BT-02", "Kho vận số").await;
    let _draft = create_entry(&a, "BT-03", "Bản nháp chưa nộp").await;
    let b1 = create_entry(&b, "BT-01", "Thông quan một chạm").await;
    complete_and_submit(&a, &a1, "Cửa khẩu thông minh").await;
    complete_and_submit(&a, &a2, "Kho vận số").await;
    complete_and_submit(&b, &b1, "Thông quan một chạm").await;

    make_organizer(&app, "btc@example.vn", "Ban Tổ Chức").await;
    let org = Web::new(&app);
    org.login("btc@example.vn").await;

    // The list: submitted entries, counted per problem; drafts on request.
    let (status, html) = org.page("/organizer/entries").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"result-count\">3 bài dự thi"), "{html}");
    assert!(
        html.contains("id=\"count-BT-01\"") && html.contains("BT-01 <span class=\"n\">2</span>")
    );
    assert!(html.contains("BT-02 <span class=\"n\">1</span>"));
    assert!(!html.contains("Bản nháp chưa nộp"));
    assert!(html.contains("href=\"/organizer/entries\" id=\"organizer-entries-link\""));
    let (_, html) = org.page("/organizer/entries?drafts=1").await;
    assert!(html.contains("id=\"result-count\">4 bài dự thi"));
    assert!(html.contains("Bản nháp chưa nộp"));
    let (_, html) = org.page("/organizer/entries?problem=BT-01").await;
    assert!(html.contains("id=\"result-count\">2 bài dự thi"));
    assert!(!html.contains("Kho vận số"));

    // Bulk: both BT-01 entries go under review; the teams are told.
    let csrf = csrf_in(&html);
    let resp = org
        .post(
            "/organizer/entries/status",
            &[
                ("csrf", csrf.as_str()),
                ("problem", "BT-01"),
                ("page", "1"),
                ("entry_id", a1.as_str()),
                ("entry_id", b1.as_str()),
                ("to", "under_review"),
                ("reason", ""),
                ("prize", ""),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    assert_eq!(to, "/organizer/entries?problem=BT-01&page=1&m=changed&n=2");
    let (_, html) = org.page(&to).await;
    assert!(html.contains("Đã chuyển trạng thái của 2 bài dự thi"));
    assert_eq!(status_of(&app, &a1).await, EntryStatus::UnderReview);
    assert_eq!(status_of(&app, &b1).await, EntryStatus::UnderReview);

    // A refused change names its entry, and nothing is changed.
    let resp = org
        .post(
            "/organizer/entries/status",
            &[
                ("csrf", csrf.as_str()),
                ("entry_id", a1.as_str()),
                ("entry_id", a2.as_str()),
                ("to", "shortlisted"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(
        html.contains(&format!("(bài dự thi {a2}) bị từ chối")),
        "{html}"
    );
    assert!(
        html.contains("id=\"refused-entry\"") && html.contains("BT-02 · Đội Lúa Vàng · Kho vận số")
    );
    assert!(
        html.contains(&format!("value=\"{a1}\" checked")),
        "selection kept"
    );
    assert_eq!(status_of(&app, &a1).await, EntryStatus::UnderReview);
    assert_eq!(status_of(&app, &a2).await, EntryStatus::Submitted);
    // Nothing selected: told so.
    let resp = org
        .post(
            "/organizer/entries/status",
            &[("csrf", csrf.as_str()), ("to", "under_review")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Hãy chọn ít nhất một bài dự thi.")
    );

    // One entry: its files download for organizers; disqualifying needs a reason.
    let detail = format!("/organizer/entries/{a2}");
    let (status, html) = org.page(&detail).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Lê Văn An") && html.contains("an@example.vn"),
        "members"
    );
    let marker = format!("href=\"/entries/{a2}/attachments/");
    let start = html.find(&marker).expect("a download link") + "href=\"".len();
    let href = &html[start..start + html[start..].find('"').expect("end")];
    let resp = org.get(href).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), PDF);
    let (status, _) = org.page(&format!("/entries/{a2}/receipts/1")).await;
    assert_eq!(status, 200, "organizers read receipts");

    let resp = org
        .submit(
            &detail,
            &format!("{detail}/status"),
            &[("to", "disqualified"), ("reason", ""), ("prize", "")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.expect("body");
    assert!(
        html.contains("id=\"f-reason-error\">Không được để trống."),
        "{html}"
    );
    let resp = org
        .submit(
            &detail,
            &format!("{detail}/status"),
            &[
                ("to", "disqualified"),
                ("reason", "Trùng với bài đã đạt giải năm trước"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(location(&resp).starts_with(&format!("{detail}?m=status")));
    assert_eq!(status_of(&app, &a2).await, EntryStatus::Disqualified);
    let (_, html) = org.page(&detail).await;
    assert!(html.contains("data-status=\"disqualified\""));
    // The team sees the decision and its reason.
    let (_, html) = a.page(&format!("/entries/{a2}")).await;
    assert!(html.contains("Bị loại") && html.contains("Trùng với bài đã đạt giải năm trước"));

    // The CSV follows the filters, with a byte-order mark for spreadsheets.
    let resp = org.get("/organizer/entries.csv").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment")
    );
    let csv = resp.text().await.expect("csv");
    assert!(
        csv.starts_with("\u{feff}entry_id,problem_code"),
        "{csv:.60}"
    );
    assert_eq!(csv.lines().count(), 4, "a header and three entries: {csv}");
    assert!(csv.contains("Thông quan một chạm"));
    let csv = org
        .get("/organizer/entries.csv?problem=BT-02")
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(&a2));

    // Participants are refused the organizer pages, anonymous visitors sent to log in.
    let (status, _) = a.page("/organizer/entries").await;
    assert_eq!(status, 403);
    let (status, _) = a.page("/organizer/entries.csv").await;
    assert_eq!(status, 403);
    let resp = Web::new(&app).get("/organizer/entries").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert!(location(&resp).starts_with("/login?next="));
}

async fn other_teams_and_anonymous_visitors_are_kept_out(backend: Backend) {
    let app = app(backend).await;
    let a = team_member(&app, "an@example.vn", "Lê Văn An", "Đội Lúa Vàng").await;
    let id = create_entry(&a, "BT-05", "Sổ sức khoẻ điện tử").await;
    let csrf = a.csrf(&format!("/entries/{id}")).await;
    let (status, body) = a.upload(&id, "slide.pdf", PDF, Some(&csrf)).await;
    assert_eq!(status, 201, "{body}");
    let aid = body["attachment"]["id"].as_str().expect("id").to_owned();

    // Another team's member is told it does not exist, whatever they try.
    let b = team_member(&app, "binh@example.vn", "Trần Thị Bình", "Đội Mây Trắng").await;
    for path in [
        format!("/entries/{id}"),
        format!("/entries/{id}/attachments/{aid}"),
        format!("/entries/{id}/receipts/1"),
    ] {
        let (status, _) = b.page(&path).await;
        assert_eq!(status, 404, "{path}");
    }
    let b_csrf = b.csrf("/entries").await;
    let (status, body) = b.upload(&id, "x.pdf", PDF, Some(&b_csrf)).await;
    assert_eq!(status, 404, "{body}");
    let resp = b
        .post(
            &format!("/entries/{id}"),
            &[("csrf", b_csrf.as_str()), ("title", "Chiếm bài")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    let resp = b
        .post(
            &format!("/entries/{id}/withdraw"),
            &[("csrf", b_csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    // A form post without the token is refused before anything else.
    let resp = a
        .post(&format!("/entries/{id}"), &[("title", "Không có mã")])
        .await;
    assert_eq!(resp.status().as_u16(), 403);

    // A participant without a team is pointed to the team page.
    make_user(&app, "cuong@example.vn", "Phạm Cường", Role::Participant).await;
    let c = Web::new(&app);
    c.login("cuong@example.vn").await;
    let (status, html) = c.page("/entries").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"no-team\"") && html.contains("href=\"/team\""));
    let csrf = csrf_in(&html);
    let resp = c
        .post(
            "/entries",
            &[
                ("csrf", csrf.as_str()),
                ("problem_code", "BT-01"),
                ("title", "Ý tưởng"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("Bạn cần tham gia hoặc tạo một đội trước.")
    );

    // Judges have no entry pages.
    make_user(&app, "gk@example.vn", "Giám Khảo", Role::Judge).await;
    let judge = Web::new(&app);
    judge.login("gk@example.vn").await;
    let (status, _) = judge.page("/entries").await;
    assert_eq!(status, 403);
    let (status, _) = judge
        .page(&format!("/entries/{id}/attachments/{aid}"))
        .await;
    assert_eq!(status, 403);

    // Anonymous visitors are sent to log in, and come back afterwards.
    let anon = Web::new(&app);
    for (path, next) in [
        ("/entries".to_owned(), "%2Fentries".to_owned()),
        (format!("/entries/{id}"), format!("%2Fentries%2F{id}")),
        (
            format!("/entries/{id}/receipts/1"),
            format!("%2Fentries%2F{id}%2Freceipts%2F1"),
        ),
        (format!("/entries/{id}/attachments/{aid}"), String::new()),
    ] {
        let resp = anon.get(&path).await;
        assert_eq!(resp.status().as_u16(), 303, "{path}");
        let to = location(&resp);
        assert!(to.starts_with("/login?next="), "{path}: {to}");
        assert!(to.ends_with(&next), "{path}: {to}");
    }
    let (status, body) = anon.upload(&id, "x.pdf", PDF, None).await;
    assert_eq!(status, 403, "{body}");
}
