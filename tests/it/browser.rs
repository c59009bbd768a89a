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

    /// Saves a screenshot under target/screenshots for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = crate::common::repo_path("target/screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }

    pub async fn text_of(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .text()
            .await
            .expect("text")
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
