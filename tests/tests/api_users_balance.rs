//! Users, balance and the ledger through the real `api` handler over loopback HTTP.

use serde_json::json;
use testkit::fixture::{API_TOKEN, ApiFixture, send};

#[tokio::test]
async fn register_is_an_idempotent_upsert_with_a_single_signup_bonus() {
    let f = ApiFixture::start("users_upsert").await;
    let (status, body) = f
        .call(
            "POST",
            "/api/users/",
            Some(json!({"telegram_id": 501, "username": "anna", "language_code": "en"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["balance"], 100);
    assert_eq!(body["username"], "anna");
    let (status, body) = f
        .call(
            "POST",
            "/api/users/",
            Some(json!({"telegram_id": 501, "username": "anna2"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["balance"], 100,
        "second upsert must not pay the bonus again"
    );
    assert_eq!(body["username"], "anna2");
    assert_eq!(
        body["language_code"], "en",
        "a missing language_code keeps the stored one"
    );
    let (status, hist) = f.call("GET", "/api/balance/501/history", None).await;
    assert_eq!(status, 200);
    assert_eq!(hist["total"], 1);
    assert_eq!(hist["items"][0]["kind"], "signup_bonus");
    f.cleanup().await;
}

#[tokio::test]
async fn initial_balance_comes_from_config() {
    let f = ApiFixture::start_with("users_zero_bonus", |s| s.initial_balance = 0).await;
    let body = f.register(502).await;
    assert_eq!(body["balance"], 0);
    let (_, hist) = f.call("GET", "/api/balance/502/history", None).await;
    assert_eq!(hist["total"], 0, "no zero-amount ledger rows");
    f.cleanup().await;
}

#[tokio::test]
async fn profile_has_balance_and_job_counts() {
    let f = ApiFixture::start("users_profile").await;
    f.register(503).await;
    let (status, _) = f.create_job(503, "anime").await;
    assert_eq!(status, 201);
    let (status, body) = f.call("GET", "/api/users/503", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["balance"], 90);
    assert_eq!(body["jobs"]["total"], 1);
    assert_eq!(body["jobs"]["queued"], 1);
    f.cleanup().await;
}

#[tokio::test]
async fn user_errors_are_json_with_the_right_status() {
    let f = ApiFixture::start("users_errors").await;
    let (status, body) = f.call("GET", "/api/users/777", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("user_not_found"))
    );
    let (status, body) = f.call("GET", "/api/users/abc", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_user"))
    );
    let (status, body) = f
        .call("POST", "/api/users/", Some(json!({"telegram_id": -5})))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_user"))
    );
    let (status, body) = f
        .call("POST", "/api/users/", Some(json!({"username": "no id"})))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, body) = f.call("GET", "/api/balance/777", None).await;
    assert_eq!(status, 404, "{body}");
    f.cleanup().await;
}

#[tokio::test]
async fn bearer_token_is_required_and_compared_exactly() {
    let f = ApiFixture::start("users_auth").await;
    let url = format!("{}/api/users/1", f.server.url());
    let (status, body) = send(f.client.get(&url)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = send(f.client.get(&url).bearer_auth(format!("{API_TOKEN}x"))).await;
    assert_eq!(status, 401);
    let (status, _) = send(f.client.get(&url).header("authorization", API_TOKEN)).await;
    assert_eq!(status, 401, "token without the Bearer scheme");
    f.cleanup().await;
}

#[tokio::test]
async fn empty_configured_token_refuses_everyone() {
    let f = ApiFixture::start_with("users_no_token", |s| s.api_token.clear()).await;
    let url = format!("{}/api/presets/", f.server.url());
    let (status, _) = send(f.client.get(&url).bearer_auth("")).await;
    assert_eq!(status, 401);
    f.cleanup().await;
}

#[tokio::test]
async fn history_is_paginated_newest_first() {
    let f = ApiFixture::start("balance_history").await;
    f.register(504).await;
    for i in 0..5 {
        let (status, _) = f
            .call(
                "POST",
                "/api/balance/504/adjust",
                Some(json!({"amount": i + 1, "reason": "gift", "reference": format!("r{i}")})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (_, page1) = f
        .call("GET", "/api/balance/504/history?limit=2", None)
        .await;
    let (_, page2) = f
        .call("GET", "/api/balance/504/history?limit=2&offset=2", None)
        .await;
    assert_eq!(page1["total"], 6);
    assert_eq!(page1["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page1["items"][0]["amount"], 5, "newest first");
    assert_eq!(page2["items"][0]["amount"], 3);
    f.cleanup().await;
}

#[tokio::test]
async fn adjustments_are_idempotent_and_never_overdraw() {
    let f = ApiFixture::start("balance_adjust").await;
    f.register(505).await;
    let body = json!({"amount": 50, "reason": "compensation", "reference": "ticket-1"});
    let (status, first) = f
        .call("POST", "/api/balance/505/adjust", Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["balance"], 150);
    let (status, again) = f.call("POST", "/api/balance/505/adjust", Some(body)).await;
    assert_eq!(status, 200, "a repeat is a no-op returning the first entry");
    assert_eq!(again["entry"]["id"], first["entry"]["id"]);
    assert_eq!(f.balance(505).await, 150);
    let (status, short) = f
        .call(
            "POST",
            "/api/balance/505/adjust",
            Some(json!({"amount": -151, "reason": "too much"})),
        )
        .await;
    assert_eq!(status, 402, "{short}");
    assert_eq!(short["error"]["shortfall"], 1);
    assert_eq!(f.balance(505).await, 150);
    let (status, _) = f
        .call(
            "POST",
            "/api/balance/505/adjust",
            Some(json!({"amount": -150, "reason": "reset"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(f.balance(505).await, 0);
    f.cleanup().await;
}

#[tokio::test]
async fn a_reference_used_for_another_user_is_a_conflict() {
    let f = ApiFixture::start("balance_adjust_reuse").await;
    f.register(507).await;
    f.register(508).await;
    let body = json!({"amount": 40, "reason": "compensation", "reference": "ticket-7"});
    let (status, first) = f
        .call("POST", "/api/balance/507/adjust", Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, other) = f
        .call("POST", "/api/balance/508/adjust", Some(body.clone()))
        .await;
    assert_eq!(status, 409, "{other}");
    assert_eq!(other["error"]["code"], "reference_reused", "{other}");
    assert_eq!(
        f.balance(508).await,
        100,
        "the other user's balance is untouched"
    );
    let (status, again) = f.call("POST", "/api/balance/507/adjust", Some(body)).await;
    assert_eq!(
        status, 200,
        "the same user and reference stay idempotent: {again}"
    );
    assert_eq!(again["entry"]["id"], first["entry"]["id"]);
    assert_eq!(f.balance(507).await, 140);
    f.cleanup().await;
}

#[tokio::test]
async fn adjustment_input_is_validated() {
    let f = ApiFixture::start_with("balance_adjust_bad", |s| s.admin_ids = vec![1]).await;
    f.register(506).await;
    let cases = [
        (json!({"amount": 0, "reason": "x"}), 422),
        (json!({"amount": 5, "reason": "  "}), 422),
        (json!({"amount": 5, "reason": "x", "admin_id": 2}), 403),
        (json!({"amount": "5", "reason": "x"}), 400),
    ];
    for (body, want) in cases {
        let (status, resp) = f
            .call("POST", "/api/balance/506/adjust", Some(body.clone()))
            .await;
        assert_eq!(status, want, "{body} → {resp}");
    }
    let (status, resp) = f
        .call(
            "POST",
            "/api/balance/506/adjust",
            Some(json!({"amount": 5, "reason": "ok", "admin_id": 1})),
        )
        .await;
    assert_eq!(status, 201, "{resp}");
    assert_eq!(resp["entry"]["note"], "ok (by 1)");
    f.cleanup().await;
}
