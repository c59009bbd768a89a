//! The pages over HTTP: Vietnamese by default, English by query, header or remembered cookie.

use crate::common::{Backend, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    home_lists_the_catalog_in_both_languages,
    problem_page_and_not_found,
    home_filters_and_searches
);

async fn text(app: &crate::common::TestApp, path: &str) -> (u16, String) {
    let resp = app.get(path).await;
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

async fn home_lists_the_catalog_in_both_languages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, html) = text(&app, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("72 bài toán"), "count shown");
    assert!(html.contains("Cửa khẩu số"));
    assert!(html.contains("name=\"viewport\""));

    // ?lang=en switches and is remembered by a cookie.
    let resp = app.get("/?lang=en").await;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        cookie.starts_with("lang=en")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = resp.text().await.expect("body");
    assert!(html.contains("<html lang=\"en\">") && html.contains("72 problems"));
    let (_, html) = text(&app, "/").await;
    assert!(
        html.contains("<html lang=\"en\">"),
        "the cookie remembers English"
    );
    let (_, html) = text(&app, "/?lang=vi").await;
    assert!(html.contains("<html lang=\"vi\">"));

    // Accept-Language without a cookie.
    let fresh = reqwest::Client::new();
    let html = fresh
        .get(app.url("/"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    assert!(html.contains("<html lang=\"en\">"));
}

async fn problem_page_and_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, html) = text(&app, "/problems/BT-01?lang=vi").await;
    assert_eq!(status, 200);
    assert!(html.contains("Vấn đề cần giải quyết") && html.contains("Quy mô thị trường"));
    assert!(html.contains("32 cửa khẩu đường bộ"), "market shown");
    assert!(html.contains("(GMT+7)"), "times shown in Vietnam time");
    let (_, html) = text(&app, "/problems/BT-01?lang=en").await;
    assert!(html.contains("Pain point") && html.contains("Digital border gate"));

    let (status, html) = text(&app, "/problems/BT-99?lang=vi").await;
    assert_eq!(status, 404);
    assert!(html.contains("Không tìm thấy trang"));
    let (status, html) = text(&app, "/no/such/page?lang=en").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page not found"));
}

async fn home_filters_and_searches(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, html) = text(&app, "/?q=cua+khau+so").await;
    assert!(html.contains("/problems/BT-01\""));
    let (_, html) = text(&app, "/?field=health").await;
    assert!(html.contains("/problems/BT-25\""));
    assert!(!html.contains("/problems/BT-01\""));
    // Junk parameters do not break the page.
    let (status, _) = text(&app, "/?field=space&page=-3&group=%00").await;
    assert_eq!(status, 200);
    // Search text is escaped, never injected.
    let (_, html) = text(&app, "/?q=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert!(!html.contains("<script>alert(1)"));
}
