//! The public catalog API: listing, filters, accent-folding search, pagination, ETags, fields,
//! health, and the one JSON error shape for bad input.

use crate::common::{Backend, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    lists_all_72_problems_in_code_order,
    filters_by_field_group_and_agency,
    search_ignores_accents_and_case,
    paginates,
    gets_one_problem_and_404s_unknown_codes,
    malformed_parameters_get_problem_details,
    unknown_api_routes_get_problem_details,
    etag_answers_304,
    fields_are_counted,
    health_and_ready,
    oversized_bodies_get_413,
);

fn codes(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect()
}

async fn lists_all_72_problems_in_code_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get_json("/api/v1/problems?per_page=100").await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 72);
    let got = codes(&body);
    let expected: Vec<String> = (1..=72).map(|n| format!("BT-{n:02}")).collect();
    assert_eq!(got, expected);
    let first = &body["items"][0];
    assert_eq!(first["code"], "BT-01");
    assert!(
        first["title_vi"]
            .as_str()
            .is_some_and(|t| t.contains("Cửa khẩu số")),
        "{first}"
    );
    assert_eq!(first["market"]["count"], 32);
    // Default page size.
    let (_, body) = app.get_json("/api/v1/problems").await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(20));
    assert_eq!(body["total"], 72);
    assert_eq!(
        (body["page"].as_u64(), body["per_page"].as_u64()),
        (Some(1), Some(20))
    );
}

async fn filters_by_field_group_and_agency(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, body) = app
        .get_json("/api/v1/problems?field=health&per_page=100")
        .await;
    let items = body["items"].as_array().expect("items");
    assert_eq!(body["total"].as_u64(), Some(items.len() as u64));
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["field"] == "health"));

    let (_, body) = app
        .get_json("/api/v1/problems?group=locality&per_page=100")
        .await;
    let items = body["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["group"] == "locality"));

    let (_, both) = app
        .get_json("/api/v1/problems?group=locality&field=environment&per_page=100")
        .await;
    assert!(
        both["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["group"] == "locality" && i["field"] == "environment")
    );
    assert!(both["total"].as_u64() < body["total"].as_u64());

    // Agency: accent- and case-insensitive containment, in either language.
    let (_, vi) = app
        .get_json("/api/v1/problems?agency=bo%20cong%20thuong&per_page=100")
        .await;
    let vi_items = vi["items"].as_array().expect("items");
    assert!(!vi_items.is_empty());
    assert!(
        vi_items.iter().all(|i| i["agency"] == "Bộ Công Thương"),
        "{vi}"
    );
    let (_, en) = app
        .get_json("/api/v1/problems?agency=ministry%20of%20industry%20and%20trade&per_page=100")
        .await;
    assert_eq!(codes(&vi), codes(&en));
}

async fn search_ignores_accents_and_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, plain) = app
        .get_json("/api/v1/problems?q=cua%20khau%20so&per_page=100")
        .await;
    let (_, accented) = app
        .get_json("/api/v1/problems?q=C%E1%BB%ADa%20Kh%E1%BA%A9u%20S%E1%BB%91&per_page=100")
        .await;
    assert!(codes(&plain).contains(&"BT-01".to_owned()), "{plain}");
    assert_eq!(codes(&plain), codes(&accented));

    // "chuyen doi so" finds "chuyển đổi số"; `d` matches `đ`.
    let (_, body) = app
        .get_json("/api/v1/problems?q=chuyen%20doi%20so&per_page=100")
        .await;
    assert!(body["total"].as_u64().unwrap_or(0) > 0);
    let (_, d) = app
        .get_json("/api/v1/problems?q=duong%20bo&per_page=100")
        .await;
    let (_, dbar) = app
        .get_json("/api/v1/problems?q=%C4%91%C6%B0%E1%BB%9Dng%20b%E1%BB%99&per_page=100")
        .await;
    assert!(d["total"].as_u64().unwrap_or(0) > 0);
    assert_eq!(codes(&d), codes(&dbar));

    // English titles and summaries are searched too.
    let (_, en) = app
        .get_json("/api/v1/problems?q=BORDER%20GATE&per_page=100")
        .await;
    assert!(codes(&en).contains(&"BT-01".to_owned()));

    // Every word must match.
    let (_, none) = app.get_json("/api/v1/problems?q=cua%20khau%20zzzqqq").await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
}

async fn paginates(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, p1) = app.get_json("/api/v1/problems?per_page=30&page=1").await;
    let (_, p3) = app.get_json("/api/v1/problems?per_page=30&page=3").await;
    let (_, p4) = app.get_json("/api/v1/problems?per_page=30&page=4").await;
    assert_eq!(codes(&p1).len(), 30);
    assert_eq!(codes(&p1)[0], "BT-01");
    assert_eq!(
        codes(&p3),
        (61..=72).map(|n| format!("BT-{n:02}")).collect::<Vec<_>>()
    );
    assert_eq!(codes(&p4).len(), 0);
    assert_eq!(p4["total"], 72);
}

async fn gets_one_problem_and_404s_unknown_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get_json("/api/v1/problems/BT-01").await;
    assert_eq!(status, 200);
    for key in [
        "pain_point",
        "expected_outcome",
        "data_available",
        "constraints",
        "policy_basis",
        "body_markdown",
        "summary_en",
        "agency_en",
    ] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} in {body}"
        );
    }
    assert!(
        body["body_html"]
            .as_str()
            .is_some_and(|h| h.contains("<h2>"))
    );
    assert!(
        body["updated_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    // Codes are case-insensitive in the path.
    let (status, _) = app.get_json("/api/v1/problems/bt-01").await;
    assert_eq!(status, 200);

    let resp = app.get("/api/v1/problems/BT-99").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("BT-99") && d.contains("Không có")),
        "{body}"
    );
    // English when asked.
    let resp = app
        .client
        .get(app.url("/api/v1/problems/BT-99"))
        .header("Accept-Language", "en-GB,en;q=0.8")
        .send()
        .await
        .expect("sent");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("There is no problem")),
        "{body}"
    );
}

async fn malformed_parameters_get_problem_details(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        ("/api/v1/problems?page=abc", "page"),
        ("/api/v1/problems?page=0", "page"),
        ("/api/v1/problems?page=-1", "page"),
        ("/api/v1/problems?per_page=0", "per_page"),
        ("/api/v1/problems?per_page=101", "per_page"),
        ("/api/v1/problems?per_page=99999999999999", "per_page"),
        ("/api/v1/problems?field=space", "field"),
        ("/api/v1/problems?group=army", "group"),
    ];
    for (path, field) in cases {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 400, "{path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["field"], field, "{path}: {body}");
        assert_eq!(body["code"], "invalid_parameter", "{path}");
        assert_eq!(body["status"], 400);
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains(field) && d.contains("Tham số")),
            "{path}: {body}"
        );
    }
    let long_q = "a".repeat(201);
    let (status, body) = app.get_json(&format!("/api/v1/problems?q={long_q}")).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("q")));
    let (_, body) = app.get_json("/api/v1/problems?field=space&lang=en").await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("must be one of") && d.contains("health")),
        "{body}"
    );
}

async fn unknown_api_routes_get_problem_details(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api/nope", "/api/v1/nope", "/api/v2/problems", "/api"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["code"], "route_not_found", "{path}");
    }
    let resp = app
        .client
        .post(app.url("/api/v1/problems"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "method_not_allowed");
}

async fn etag_answers_304(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api/v1/problems?field=energy", "/api/v1/problems/BT-01"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200);
        let etag = resp.headers()["etag"].to_str().expect("etag").to_owned();
        let again = app
            .client
            .get(app.url(path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("sent");
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().ok(), Some(etag.as_str()));
        assert!(again.bytes().await.expect("body").is_empty());
        let stale = app
            .client
            .get(app.url(path))
            .header("If-None-Match", "\"stale\"")
            .send()
            .await
            .expect("sent");
        assert_eq!(stale.status(), 200);
    }
    // A different query has a different ETag.
    let a = app.get("/api/v1/problems?field=energy").await.headers()["etag"].clone();
    let b = app.get("/api/v1/problems?field=health").await.headers()["etag"].clone();
    assert_ne!(a, b);
}

async fn fields_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get_json("/api/v1/fields").await;
    assert_eq!(status, 200);
    let fields = body.as_array().expect("array");
    assert_eq!(fields.len(), 11);
    let total: u64 = fields
        .iter()
        .map(|f| f["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 72);
    let health = fields
        .iter()
        .find(|f| f["code"] == "health")
        .expect("health");
    assert_eq!(health["name_vi"], "Y tế");
    let (_, listed) = app
        .get_json("/api/v1/problems?field=health&per_page=100")
        .await;
    assert_eq!(health["count"], listed["total"]);
}

async fn health_and_ready(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.get_json("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get_json("/ready").await;
    assert_eq!((status, body["database"].as_str()), (200, Some("ok")));
    // With the database gone, /ready says so.
    app.store.close().await;
    let (status, body) = app.get_json("/ready").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("unavailable"))
    );
    let resp = app.get("/api/openapi.json").await;
    assert_eq!(resp.status(), 200);
    let spec: serde_json::Value = resp.json().await.expect("spec");
    assert!(spec["paths"]["/problems"].is_object(), "{spec}");
    assert_eq!(app.get("/api/docs").await.status(), 200);
}

async fn oversized_bodies_get_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(300 * 1024));
    let resp = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    // Chunked, with no Content-Length: read up to the limit, then refused.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(big.into_bytes())]);
    let resp = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 413);
}
