//! HTTP-level behaviour of the `api`: routing, limits, malformed input, health, OpenAPI
//! (routes, statuses, constraints) and the paging and number rules the document states.

use std::collections::BTreeSet;

use qwen_http::ROUTES;
use testkit::fixture::{API_TOKEN, ApiFixture, send};

#[tokio::test]
async fn unknown_routes_and_methods() {
    let f = ApiFixture::start("http_routes").await;
    let (status, body) = f.call("GET", "/api/nope", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let resp = f
        .client
        .delete(format!("{}/api/jobs/", f.server.url()))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    f.cleanup().await;
}

#[tokio::test]
async fn trailing_slash_is_optional() {
    let f = ApiFixture::start("http_slash").await;
    let (a, _) = f.call("GET", "/api/presets", None).await;
    let (b, _) = f.call("GET", "/api/presets/", None).await;
    assert_eq!((a, b), (200, 200));
    f.cleanup().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_declared_or_streamed() {
    let f = ApiFixture::start_with("http_limit", |s| s.max_body_bytes = 1024).await;
    let big = vec![b' '; 4096];
    let url = format!("{}/api/users/", f.server.url());
    let (status, body) = send(f.client.post(&url).bearer_auth(API_TOKEN).body(big.clone())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let stream = futures::stream::iter(
        big.chunks(100)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let chunked = reqwest::Body::wrap_stream(stream);
    let (status, _) = send(f.client.post(&url).bearer_auth(API_TOKEN).body(chunked)).await;
    assert_eq!(
        status, 413,
        "a chunked body without content-length is counted too"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn malformed_json_is_400_never_500() {
    let f = ApiFixture::start("http_malformed").await;
    for body in [
        &b"{"[..],
        b"",
        b"null",
        b"[1,2]",
        b"\xff\xfe",
        b"{\"telegram_id\": 1e400}",
    ] {
        for path in [
            "/api/users/",
            "/api/jobs/",
            "/api/balance/1/adjust",
            "/api/presets/x",
        ] {
            let url = format!("{}{path}", f.server.url());
            let (status, resp) = send(
                f.client
                    .post(&url)
                    .bearer_auth(API_TOKEN)
                    .body(body.to_vec()),
            )
            .await;
            assert_eq!(status, 400, "{path} {body:?} → {resp}");
            assert_eq!(resp["error"]["code"], "malformed_json");
        }
    }
    f.cleanup().await;
}

#[tokio::test]
async fn health_reports_database_and_queue() {
    let f = ApiFixture::start("http_health").await;
    let (status, body) = send(f.client.get(format!("{}/health", f.server.url()))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["queue"], "ok");
    let down = ApiFixture::start_with("http_health_down", |s| {
        s.redis_url = "redis://127.0.0.1:1".into()
    })
    .await;
    let (status, body) = send(down.client.get(format!("{}/health", down.server.url()))).await;
    assert_eq!(status, 503);
    assert_eq!(
        (body["database"].as_str(), body["queue"].as_str()),
        (Some("ok"), Some("unavailable"))
    );
    f.cleanup().await;
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let f = ApiFixture::start("http_openapi").await;
    let (status, doc) = send(f.client.get(format!("{}/api/openapi.json", f.server.url()))).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(
        documented, routed,
        "OpenAPI paths must equal the router's routes"
    );
    f.cleanup().await;
}

/// The document's operation for `method` on `path`.
fn operation<'a>(doc: &'a serde_json::Value, method: &str, path: &str) -> &'a serde_json::Value {
    &doc["paths"][path][method.to_lowercase()]
}

/// The schema of a query parameter of an operation.
fn query_schema<'a>(op: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    op["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name && p["in"] == "query"))
        .map_or(&serde_json::Value::Null, |p| &p["schema"])
}

#[tokio::test]
async fn openapi_operations_list_their_statuses_and_constraints() {
    let f = ApiFixture::start("http_openapi_ops").await;
    let (_, doc) = send(f.client.get(format!("{}/api/openapi.json", f.server.url()))).await;
    for r in ROUTES {
        let op = operation(&doc, r.method, r.path);
        let statuses: Vec<&String> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .collect();
        assert!(
            statuses.iter().any(|s| s.starts_with('2')),
            "{} {} has no success status: {statuses:?}",
            r.method,
            r.path
        );
        let public = r.path == "/health" || r.path == "/api/openapi.json";
        assert_eq!(
            statuses.contains(&&"401".to_owned()),
            !public,
            "{} {}: 401 iff authenticated",
            r.method,
            r.path
        );
    }
    let job = &doc["components"]["schemas"]["NewJob"]["allOf"][0]["properties"];
    assert_eq!(
        (
            job["prompt"]["minLength"].as_i64(),
            job["prompt"]["maxLength"].as_i64()
        ),
        (Some(1), Some(500))
    );
    assert_eq!(
        (
            job["file_ids"]["minItems"].as_i64(),
            job["file_ids"]["maxItems"].as_i64()
        ),
        (Some(1), Some(3))
    );
    let preset = &operation(&doc, "POST", "/api/presets/{id}")["requestBody"]["content"]["application/json"]
        ["schema"]["properties"];
    assert_eq!(preset["prompt"]["maxLength"].as_i64(), Some(500));
    assert_eq!(preset["prompt"]["minLength"].as_i64(), Some(1));
    for path in ["/api/users/{telegram_id}/jobs", "/api/payments/"] {
        let limit = query_schema(operation(&doc, "GET", path), "limit");
        assert_eq!(
            (limit["minimum"].as_f64(), limit["maximum"].as_f64()),
            (Some(1.0), Some(100.0)),
            "{path}"
        );
    }
    let status = &operation(&doc, "GET", "/api/payments/")["responses"]["422"];
    assert!(status.is_object(), "payments list documents 422");
    f.cleanup().await;
}

#[tokio::test]
async fn paging_filters_and_whole_numbers_follow_the_document() {
    let f = ApiFixture::start("http_paging").await;
    f.register(42).await;
    for query in [
        "limit=0",
        "limit=101",
        "offset=-1",
        "limit=abc",
        "limit=1.5",
    ] {
        let (status, body) = f
            .call("GET", &format!("/api/users/42/jobs?{query}"), None)
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid_page")),
            "{query}"
        );
    }
    let (status, body) = f.call("GET", "/api/payments/?status=AAA", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_status"))
    );
    let (status, body) = f
        .call("GET", "/api/users/42.0/jobs?limit=100.0", None)
        .await;
    assert_eq!((status, body["limit"].as_i64()), (200, Some(100)), "{body}");
    let (status, body) = f
        .call(
            "POST",
            "/api/users/",
            Some(serde_json::json!({"telegram_id": 43.0})),
        )
        .await;
    assert_eq!(
        (status, body["telegram_id"].as_i64()),
        (201, Some(43)),
        "{body}"
    );
    f.cleanup().await;
}
