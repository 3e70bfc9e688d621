//! `GET /api/stats`: the operator's view of what the bot's `/stats` shows.

use testkit::fixture::ApiFixture;

#[tokio::test]
async fn stats_count_users_jobs_and_the_stream() {
    let f = ApiFixture::start("api-stats").await;
    f.register(801).await;
    f.register(802).await;
    let (status, _) = f.create_job(801, "anime").await;
    assert_eq!(status, 201);
    let (status, s) = f.call("GET", "/api/stats", None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["users"], 2);
    assert_eq!(s["users_today"], 2);
    assert_eq!(s["jobs_today"]["total"], 1);
    assert_eq!(s["jobs_today"]["queued"], 1);
    assert_eq!(s["queued_now"], 1);
    assert_eq!(s["backlog"]["waiting"], 1, "no host has read it: {s}");
    assert_eq!(s["backlog"]["stream_length"], 1);
    assert_eq!(s["topups_today"], 0);
    let unauthorized = f
        .client
        .get(format!("{}/api/stats", f.server.url()))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(unauthorized.ok(), Some(401));
    f.cleanup().await;
}
