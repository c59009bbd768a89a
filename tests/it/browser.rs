//! Pages driven in a real headless Chromium through ChromeDriver (Debian's `chromium` and
//! `chromium-driver`). The harness (`Browser`) is what later page tests reuse.
//!
//! Without chromedriver the test is skipped with a message, unless `TEST_REQUIRE_BROWSER`
//! is set (CI sets it), in which case it fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::common::{Backend, TestApp, spawn_app};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find_binary(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| (*p).to_owned())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a phone-sized or desktop window.
    /// Returns None (after saying so) when the browser is not installed and not required.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        // Several TLS backends are compiled in; pick one for the WebDriver client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let driver_bin = find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let chrome_bin = find_binary(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let (Some(driver_bin), Some(chrome_bin)) = (driver_bin, chrome_bin) else {
            assert!(
                std::env::var_os("TEST_REQUIRE_BROWSER").is_none(),
                "TEST_REQUIRE_BROWSER is set but chromium/chromedriver are not installed"
            );
            eprintln!(
                "SKIPPED browser test: install Debian's chromium and chromium-driver to run it"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chrome_bin,
                // A phone set to Vietnamese, like most of the contest's users.
                "prefs": { "intl.accept_languages": "vi-VN,vi" },
                // Headless windows are at least 500px wide; emulating the device's metrics is
                // what really gives a 390px-wide viewport.
                "mobileEmulation": {
                    "deviceMetrics": {
                        "width": width, "height": height, "pixelRatio": 1.0,
                        "mobile": width < 768, "touch": width < 768,
                    }
                },
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=vi-VN",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().cloned().expect("object");
        let mut last_err = String::new();
        for _ in 0..50 {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last_err = e.to_string();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("cannot start a browser session: {last_err}");
    }

    /// Scrolls `css` to the top of the screen, then saves a screenshot.
    pub async fn screenshot_at(&self, css: &str, name: &str) {
        let el = self.client.find(Locator::Css(css)).await.expect(css);
        let arg = serde_json::to_value(&el).expect("element");
        self.client
            .execute("arguments[0].scrollIntoView({block: 'start'});", vec![arg])
            .await
            .expect("scroll");
        self.screenshot(name).await;
    }

    /// Saves a screenshot under target/screenshots for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = crate::common::repo_path("target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }

    /// The text of the first element matching `css`. The page may still be navigating (an
    /// element found can go stale before it is read), so this retries for a few seconds.
    pub async fn text_of(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            match self.client.find(Locator::Css(css)).await {
                Ok(el) => match el.text().await {
                    Ok(text) => return text,
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{css}: {last}");
    }
}

async fn no_horizontal_overflow(b: &Browser) -> bool {
    let v = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .expect("script");
    v.as_bool().unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_search_language_switch_and_problem_page_on_a_phone() {
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    let c = &b.client;
    c.goto(&app.url("/")).await.expect("home");
    assert_eq!(b.text_of("#result-count").await, "72 bài toán");
    assert!(
        no_horizontal_overflow(&b).await,
        "the home page fits a phone screen"
    );
    b.screenshot("home-vi-phone").await;

    // Search without accents finds the accented statement.
    let q = c.find(Locator::Id("q")).await.expect("search box");
    q.send_keys("cua khau so").await.expect("type");
    c.find(Locator::Css("form.filters button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    c.wait()
        .for_element(Locator::Css("a[href='/problems/BT-01']"))
        .await
        .expect("BT-01 found");
    let count = b.text_of("#result-count").await;
    assert!(
        count.ends_with("bài toán") && count != "72 bài toán",
        "{count}"
    );

    // Filter by field with the select.
    c.goto(&app.url("/")).await.expect("home");
    c.find(Locator::Css("#field option[value='health']"))
        .await
        .expect("option")
        .click()
        .await
        .expect("pick");
    c.find(Locator::Css("form.filters button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    c.wait()
        .for_element(Locator::Css("a[href='/problems/BT-25']"))
        .await
        .expect("a health problem");
    assert!(
        c.find(Locator::Css("a[href='/problems/BT-01']"))
            .await
            .is_err(),
        "transport filtered out"
    );

    // Switch to English; the choice is remembered on the next page.
    c.find(Locator::Css("a[data-lang='en']"))
        .await
        .expect("switch")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("html[lang='en']"))
        .await
        .expect("english");
    c.goto(&app.url("/")).await.expect("home");
    assert_eq!(b.text_of("#result-count").await, "72 problems");
    b.screenshot("home-en-phone").await;

    // Open a problem from its card.
    c.find(Locator::Css("a[href='/problems/BT-01']"))
        .await
        .expect("card")
        .click()
        .await
        .expect("open");
    c.wait()
        .for_element(Locator::Css("article.problem h1"))
        .await
        .expect("problem page");
    let h1 = b.text_of("article.problem h1").await;
    assert!(h1.starts_with("Digital border gate"), "{h1}");
    assert!(
        no_horizontal_overflow(&b).await,
        "the problem page fits a phone screen"
    );
    b.screenshot("problem-en-phone").await;
    c.clone().close().await.expect("close");
}

/// The link in a received message, as a path on the test server (emails link to the configured
/// public address, not to the test's random port).
fn link_path(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"));
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| start + i);
    text[start..end].to_owned()
}

async fn fill(b: &Browser, id: &str, value: &str) {
    let el = b.client.find(Locator::Id(id)).await.expect(id);
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

async fn click(b: &Browser, css: &str) {
    b.client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

async fn wait_for(b: &Browser, css: &str) {
    b.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

async fn fits_phone(b: &Browser, what: &str) {
    assert!(
        no_horizontal_overflow(b).await,
        "{what} fits a phone screen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_verify_log_in_and_form_a_team_on_a_phone() {
    use crate::common::spawn_app_with;
    use crate::mail::TestSmtp;

    let smtp = TestSmtp::start().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("mail.transport", "smtp".into()),
            ("mail.smtp.host", "127.0.0.1".into()),
            ("mail.smtp.port", smtp.port().into()),
        ],
    )
    .await;
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    let c = &b.client;
    let wait = Duration::from_secs(20);

    // Register, first with mistakes: the messages show under their fields, in Vietnamese.
    c.goto(&app.url("/")).await.expect("home");
    click(&b, "#register-link").await;
    wait_for(&b, "#register-form").await;
    b.screenshot("register-vi-phone").await;
    fill(&b, "f-email", "hoa.nguyen@example").await;
    fill(&b, "f-full_name", "Nguyễn Thị Hoa").await;
    fill(&b, "f-password", "12345").await;
    fill(&b, "f-organization", "Trường Đại học Cần Thơ").await;
    click(&b, "#register-form button[type=submit]").await;
    wait_for(&b, "#f-email-error").await;
    assert_eq!(
        b.text_of("#f-email-error").await,
        "Địa chỉ email không hợp lệ."
    );
    assert_eq!(
        b.text_of("#f-password-error").await,
        "Cần ít nhất 10 ký tự."
    );
    let kept = c
        .find(Locator::Id("f-full_name"))
        .await
        .expect("name")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("Nguyễn Thị Hoa"));
    fits_phone(&b, "the register form with errors").await;
    b.screenshot("register-errors-vi-phone").await;

    fill(&b, "f-email", "hoa.nguyen@example.vn").await;
    fill(&b, "f-password", "sen hồng nở giữa đầm").await;
    fill(&b, "f-phone", "0912 345 678").await;
    click(&b, "#register-form button[type=submit]").await;
    wait_for(&b, "#notice-message").await;
    assert!(
        b.text_of("#notice-message")
            .await
            .contains("hoa.nguyen@example.vn")
    );
    b.screenshot("register-sent-vi-phone").await;

    // The verification message arrives over SMTP; its link opens a page with a button.
    let mail = smtp.wait_for(1, wait).await[0].parse();
    assert!(mail.subject().starts_with("Xác nhận địa chỉ email"));
    let verify = link_path(&mail.text, "/verify?token=");
    c.goto(&app.url(&verify)).await.expect("verify page");
    wait_for(&b, "#confirm").await;
    fits_phone(&b, "the verify page").await;
    b.screenshot("verify-vi-phone").await;
    click(&b, "#confirm").await;
    wait_for(&b, "#flash").await;
    assert!(b.text_of("#flash").await.contains("đã được xác nhận"));

    // Log in: the participant lands on the team page.
    fill(&b, "f-email", "hoa.nguyen@example.vn").await;
    fill(&b, "f-password", "sen hồng nở giữa đầm").await;
    b.screenshot("login-vi-phone").await;
    click(&b, "#login-form button[type=submit]").await;
    wait_for(&b, "#create-form").await;
    assert_eq!(b.text_of("#who").await, "Nguyễn Thị Hoa");
    fits_phone(&b, "the create-team page").await;
    b.screenshot("team-create-vi-phone").await;

    // Create a team; a name without a province first.
    fill(&b, "f-name", "Đội Sen Hồng").await;
    click(&b, "#f-kind option[value='student']").await;
    click(&b, "#create-form button[type=submit]").await;
    wait_for(&b, "#f-province-error").await;
    b.screenshot("team-create-errors-vi-phone").await;
    click(&b, "#f-province option[value='92']").await;
    click(&b, "#create-form button[type=submit]").await;
    wait_for(&b, "#team-name").await;
    assert_eq!(b.text_of("#team-name").await, "Đội Sen Hồng");
    assert!(b.text_of("#team-facts").await.contains("Thành phố Cần Thơ"));

    // Invite a teammate; the invitation is mailed and listed.
    fill(&b, "f-email", "minh.tran@example.vn").await;
    click(&b, "#invite-form button[type=submit]").await;
    wait_for(&b, "#flash").await;
    assert!(
        b.text_of("#invitations")
            .await
            .contains("minh.tran@example.vn")
    );
    fits_phone(&b, "the team page").await;
    b.screenshot("team-leader-vi-phone").await;
    b.screenshot_at("#members", "team-leader-members-vi-phone")
        .await;
    b.screenshot_at("#invitations", "team-leader-invitations-vi-phone")
        .await;
    let invitation = smtp.wait_for(2, wait).await[1].parse();
    assert!(
        invitation.subject().contains("Đội Sen Hồng"),
        "{}",
        invitation.subject()
    );
    let accept = link_path(&invitation.text, "/team-invitations/accept?token=");

    // Log out; the invited person opens the link and joins with a new account.
    click(&b, "#logout").await;
    wait_for(&b, "#login-form").await;
    c.goto(&app.url(&accept)).await.expect("invitation page");
    wait_for(&b, "#register-form").await;
    assert!(b.text_of("#about").await.contains("Đội Sen Hồng"));
    fits_phone(&b, "the invitation page").await;
    b.screenshot("team-invitation-vi-phone").await;
    b.screenshot_at("#f-organization", "team-invitation-form-vi-phone")
        .await;
    fill(&b, "f-full_name", "Trần Văn Minh").await;
    fill(&b, "f-password", "mưa rào tháng sáu Cần Thơ").await;
    fill(&b, "f-organization", "Trường Đại học Cần Thơ").await;
    click(&b, "#register-form button[type=submit]").await;
    wait_for(&b, "#team-name").await;
    assert_eq!(b.text_of("#who").await, "Trần Văn Minh");
    let members = b.text_of("#members").await;
    assert!(
        members.contains("Nguyễn Thị Hoa") && members.contains("Trần Văn Minh"),
        "{members}"
    );
    assert!(
        !members.contains("hoa.nguyen@example.vn"),
        "only the leader sees addresses"
    );
    b.screenshot("team-member-vi-phone").await;
    click(&b, "#leave summary").await;
    wait_for(&b, "#leave-confirm").await;
    b.screenshot_at("#members", "team-member-bottom-vi-phone")
        .await;

    // The account page, in English.
    c.goto(&app.url("/account?lang=en")).await.expect("account");
    wait_for(&b, "#profile-form").await;
    fits_phone(&b, "the account page").await;
    b.screenshot("account-en-phone").await;
    b.screenshot_at("#password", "account-password-en-phone")
        .await;
    b.screenshot_at("#notifications", "account-notifications-en-phone")
        .await;
    c.clone().close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizer_pages_fit_a_phone() {
    use dxcontest::domain::account::Role;
    use dxcontest::store::accounts::{UserChange, update_user, user_by_email};

    use crate::web_accounts::{PASSWORD, register, verify};

    let app = spawn_app(Backend::Sqlite).await;
    register(&app, "btc@example.vn", "Nguyễn Văn Tổ Chức").await;
    verify(&app, "btc@example.vn").await;
    register(&app, "an.le@example.vn", "Lê Thị An").await;
    let user = user_by_email(app.store.pool(), "btc@example.vn")
        .await
        .expect("query")
        .expect("user");
    update_user(
        app.store.pool(),
        &user.id,
        UserChange::Role(Role::Organizer),
        dxcontest::service::now_ms(),
    )
    .await
    .expect("organizer");
    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    let c = &b.client;
    c.goto(&app.url("/login")).await.expect("login");
    fill(&b, "f-email", "btc@example.vn").await;
    fill(&b, "f-password", PASSWORD).await;
    click(&b, "#login-form button[type=submit]").await;
    wait_for(&b, "#users").await;
    fits_phone(&b, "the users page").await;
    b.screenshot("organizer-users-vi-phone").await;

    // Disable an account from the phone: the confirmation opens in place.
    click(&b, "#users li.user details.confirm summary").await;
    b.screenshot("organizer-users-confirm-vi-phone").await;
    click(&b, "#users li.user details.confirm button.danger").await;
    wait_for(&b, "#flash").await;
    fits_phone(&b, "the users page after disabling").await;

    c.goto(&app.url("/organizer/judges")).await.expect("judges");
    fill(&b, "f-email", "giam.khao@example.vn").await;
    click(&b, "#judge-invite-form button[type=submit]").await;
    wait_for(&b, "#flash").await;
    fits_phone(&b, "the judges page").await;
    b.screenshot("organizer-judges-vi-phone").await;
    b.screenshot_at("#judge-invitations", "organizer-judges-list-vi-phone")
        .await;

    c.goto(&app.url("/organizer/outbox")).await.expect("outbox");
    wait_for(&b, "#mails").await;
    fits_phone(&b, "the outbox page").await;
    b.screenshot("organizer-outbox-vi-phone").await;

    c.goto(&app.url("/organizer/audit")).await.expect("audit");
    wait_for(&b, "#audit").await;
    click(&b, "#audit li.entry details summary").await;
    fits_phone(&b, "the audit page with details open").await;
    b.screenshot("organizer-audit-vi-phone").await;
    b.screenshot_at(
        "#audit li.entry details",
        "organizer-audit-details-vi-phone",
    )
    .await;
    c.clone().close().await.expect("close");
}

/// Waits until the page's address has `part` in its query (a form post or script has led there).
async fn wait_for_query(b: &Browser, part: &str) {
    for _ in 0..200 {
        let url = b.client.current_url().await.expect("url");
        if url.query().is_some_and(|q| q.contains(part)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not reach ?{part}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_enters_a_problem_uploads_and_submits_on_a_phone() {
    use dxcontest::domain::account::Role;

    use crate::admin::{PASSWORD, login, make_user, post};

    let app = spawn_app(Backend::Sqlite).await;
    make_user(&app, "hoa@example.vn", "Nguyễn Thị Hoa", Role::Participant).await;
    let token = login(&app, "hoa@example.vn").await;
    let (status, body) = post(
        &app,
        "/api/v1/teams",
        serde_json::json!({
            "name": "Đội Sen Hồng", "kind": "student", "province": "Cần Thơ",
            "organization": "Trường Đại học Cần Thơ",
        }),
        Some(&token),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // The file to upload, with a Vietnamese name, as people have them.
    let files = tempfile::tempdir().expect("temp dir");
    let pdf_path = files.path().join("Thuyết minh giải pháp.pdf");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 300_000));
    pdf.extend(b"\n%%EOF\n");
    std::fs::write(&pdf_path, &pdf).expect("pdf written");

    let Some(b) = Browser::start(390, 844).await else {
        return;
    };
    let c = &b.client;
    c.goto(&app.url("/login?next=/entries"))
        .await
        .expect("login");
    fill(&b, "f-email", "hoa@example.vn").await;
    fill(&b, "f-password", PASSWORD).await;
    click(&b, "#login-form button[type=submit]").await;
    wait_for(&b, "#create-form").await;
    let remaining = b.text_of("#remaining").await;
    assert!(
        remaining.starts_with("còn ") && remaining.contains(" ngày "),
        "{remaining}"
    );
    assert!(b.text_of("#deadline").await.ends_with("(GMT+7)"));
    fits_phone(&b, "the entries page").await;
    b.screenshot("entries-vi-phone").await;

    // Enter a problem.
    click(&b, "#f-problem_code option[value='BT-12']").await;
    fill(&b, "f-title", "Sổ tay nông dân số").await;
    click(&b, "#create-form button[type=submit]").await;
    wait_for(&b, "#entry-form").await;
    assert_eq!(b.text_of("#entry-title").await, "Sổ tay nông dân số");
    fits_phone(&b, "the entry page").await;
    b.screenshot("entry-new-vi-phone").await;

    // Fill the form and save.
    fill(
        &b,
        "f-summary",
        "Ứng dụng giúp nông dân ghi chép mùa vụ và truy xuất nguồn gốc.",
    )
    .await;
    fill(
        &b,
        "f-description",
        "## Giải pháp\n\n- Ghi chép bằng giọng nói\n- Mã QR cho từng lô hàng",
    )
    .await;
    click(&b, "#f-maturity option[value='prototype']").await;
    fill(&b, "f-technologies", "Rust, PostgreSQL, Flutter").await;
    fill(&b, "f-demo_url", "https://demo.example.vn").await;
    click(&b, "#save").await;
    wait_for_query(&b, "m=saved").await;
    assert_eq!(b.text_of("#flash").await, "Đã lưu.");

    // Upload through the file input: the progress bar follows the upload, then the file is listed.
    c.execute(
        "var send = XMLHttpRequest.prototype.send;
         XMLHttpRequest.prototype.send = function (body) {
           this.upload.addEventListener('progress', function (e) {
             var bar = document.getElementById('upload-progress');
             sessionStorage.setItem('progress', bar.value + ' ' + e.loaded + '/' + e.total + ' ' + !bar.hidden);
           });
           return send.call(this, body);
         };",
        vec![],
    )
    .await
    .expect("watch the upload");
    c.find(Locator::Id("f-file"))
        .await
        .expect("file input")
        .send_keys(&pdf_path.display().to_string())
        .await
        .expect("file chosen");
    b.screenshot_at("#attachments", "entry-upload-chosen-vi-phone")
        .await;
    click(&b, "#upload-button").await;
    wait_for_query(&b, "m=uploaded").await;
    wait_for(&b, "#attachment-list li.attachment").await;
    assert!(
        b.text_of("#attachment-list")
            .await
            .contains("Thuyết minh giải pháp.pdf")
    );
    assert_eq!(b.text_of("#flash").await, "Đã tải tệp lên.");
    let progress = c
        .execute("return sessionStorage.getItem('progress');", vec![])
        .await
        .expect("script");
    let size = pdf.len();
    assert_eq!(
        progress.as_str(),
        Some(format!("100 {size}/{size} true").as_str()),
        "the bar showed the upload's progress"
    );
    fits_phone(&b, "the entry page with a file").await;
    b.screenshot_at("#attachments", "entry-attachments-vi-phone")
        .await;

    // Save and submit: the receipt, with the SHA-256.
    b.screenshot_at("#submit", "entry-submit-vi-phone").await;
    click(&b, "#submit").await;
    wait_for(&b, "#receipt").await;
    let hash = b.text_of("#sha256").await;
    assert!(
        hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit()),
        "{hash}"
    );
    assert!(
        b.text_of("#receipt-files")
            .await
            .contains("Thuyết minh giải pháp.pdf")
    );
    assert!(b.text_of("#flash").await.starts_with("Đã nộp bài."));
    fits_phone(&b, "the receipt").await;
    b.screenshot("receipt-vi-phone").await;
    b.screenshot_at("#sha256", "receipt-hash-vi-phone").await;

    // An organizer sees it in the list, counted under its problem, and opens it.
    crate::admin::make_organizer(&app, "btc@example.vn", "Ban Tổ Chức").await;
    click(&b, "#logout").await;
    wait_for(&b, "#login-form").await;
    c.goto(&app.url("/login?next=/organizer/entries"))
        .await
        .expect("login");
    fill(&b, "f-email", "btc@example.vn").await;
    fill(&b, "f-password", PASSWORD).await;
    click(&b, "#login-form button[type=submit]").await;
    wait_for(&b, "#bulk-form").await;
    assert_eq!(b.text_of("#count-BT-12").await, "BT-12 1");
    fits_phone(&b, "the organizers' entry list").await;
    b.screenshot("organizer-entries-vi-phone").await;
    b.screenshot_at("#entries", "organizer-entries-list-vi-phone")
        .await;
    click(&b, "#entries li.entry a").await;
    wait_for(&b, "#status-form").await;
    fits_phone(&b, "the organizers' entry page").await;
    b.screenshot("organizer-entry-vi-phone").await;
    c.clone().close().await.expect("close");
}
