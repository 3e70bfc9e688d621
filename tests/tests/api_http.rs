//! HTTP-level behaviour of the `api`: routing, limits, malformed input, health, OpenAPI.

use std::collections::BTreeSet;

use qwen_core::rest::ROUTES;
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
