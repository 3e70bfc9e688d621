//! Presets: the shipped data, filtering, categories, and editing through the API.

use serde_json::json;
use testkit::fixture::ApiFixture;

fn preset(prompt: &str) -> serde_json::Value {
    json!({"category": "style", "name_ru": "Комикс", "name_en": "Comic", "description_ru": "д", "description_en": "d",
           "prompt": prompt, "cost": 7, "sort": 99})
}

#[tokio::test]
async fn shipped_presets_are_listed_and_filtered_by_category() {
    let f = ApiFixture::start("presets_list").await;
    let (status, all) = f.call("GET", "/api/presets/", None).await;
    assert_eq!(status, 200);
    let all = all["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(all.len(), qwen_core::presets::BUILTIN_PRESETS.len());
    let (_, style) = f.call("GET", "/api/presets/?category=style", None).await;
    let style = style["items"].as_array().cloned().unwrap_or_default();
    assert!(!style.is_empty() && style.len() < all.len());
    assert!(style.iter().all(|p| p["category"] == "style"));
    let (_, cats) = f.call("GET", "/api/presets/categories", None).await;
    let cats = cats["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(cats[0]["id"], "style", "sorted by their sort key");
    assert_eq!(cats[0]["presets"].as_u64(), Some(style.len() as u64));
    assert!(
        cats.iter()
            .all(|c| c["name_ru"].is_string() && c["name_en"].is_string())
    );
    let (status, one) = f.call("GET", "/api/presets/anime", None).await;
    assert_eq!((status, one["name_en"].as_str()), (200, Some("Anime")));
    f.cleanup().await;
}

#[tokio::test]
async fn create_update_delete_a_preset() {
    let f = ApiFixture::start("presets_crud").await;
    let (status, created) = f
        .call(
            "POST",
            "/api/presets/comic",
            Some(preset("Make it a comic")),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "comic");
    let (status, body) = f
        .call("POST", "/api/presets/comic", Some(preset("again")))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("preset_exists"))
    );
    let (status, updated) = f
        .call(
            "PUT",
            "/api/presets/comic",
            Some(preset("Make it a bold comic")),
        )
        .await;
    assert_eq!(
        (status, updated["prompt"].as_str()),
        (200, Some("Make it a bold comic"))
    );
    f.register(901).await;
    let (status, job) = f.create_job(901, "comic").await;
    assert_eq!(
        (status, job["cost"].as_i64()),
        (201, Some(7)),
        "jobs use the edited price"
    );
    let (status, _) = f.call("DELETE", "/api/presets/comic", None).await;
    assert_eq!(status, 204);
    let (status, _) = f.call("GET", "/api/presets/comic", None).await;
    assert_eq!(status, 404);
    let (status, _) = f.create_job(901, "comic").await;
    assert_eq!(status, 404, "a deleted preset cannot be used");
    let (status, _) = f.call("DELETE", "/api/presets/comic", None).await;
    assert_eq!(status, 404);
    let (status, revived) = f
        .call("POST", "/api/presets/comic", Some(preset("Back again")))
        .await;
    assert_eq!(
        (status, revived["prompt"].as_str()),
        (201, Some("Back again"))
    );
    f.cleanup().await;
}

#[tokio::test]
async fn invalid_presets_are_refused() {
    let f = ApiFixture::start("presets_invalid").await;
    let long = "x".repeat(501);
    let mut unknown_cat = preset("ok");
    unknown_cat["category"] = json!("nope");
    let mut negative = preset("ok");
    negative["cost"] = json!(-1);
    let mut no_name = preset("ok");
    no_name["name_en"] = json!(" ");
    let cases = [
        ("/api/presets/long", preset(&long), "invalid_prompt"),
        ("/api/presets/empty", preset(""), "invalid_prompt"),
        ("/api/presets/cat", unknown_cat, "unknown_category"),
        ("/api/presets/neg", negative, "invalid_preset"),
        ("/api/presets/noname", no_name, "invalid_preset"),
        ("/api/presets/Bad-Id", preset("ok"), "invalid_preset"),
        (
            "/api/presets/nocost",
            json!({"category": "style"}),
            "invalid_preset",
        ),
    ];
    for (path, body, code) in cases {
        let (status, resp) = f.call("POST", path, Some(body)).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (422, Some(code)),
            "{path}: {resp}"
        );
    }
    let (status, _) = f
        .call("PUT", "/api/presets/missing", Some(preset("ok")))
        .await;
    assert_eq!(status, 404);
    f.cleanup().await;
}

#[tokio::test]
async fn a_preset_names_its_workflow_or_keeps_the_default() {
    let f = ApiFixture::start("presets_workflow").await;
    let (_, all) = f.call("GET", "/api/presets/", None).await;
    let all = all["items"].as_array().cloned().unwrap_or_default();
    assert!(
        !all.is_empty() && all.iter().all(|p| p["workflow"].is_null()),
        "built-in presets run the default workflow"
    );
    let mut body = preset("Make it a comic");
    body["workflow"] = json!("model_free");
    let (status, created) = f.call("POST", "/api/presets/comic", Some(body)).await;
    assert_eq!(
        (status, created["workflow"].as_str()),
        (201, Some("model_free"))
    );
    let (_, got) = f.call("GET", "/api/presets/comic", None).await;
    assert_eq!(got["workflow"], "model_free", "stored and read back");
    let (_, listed) = f.call("GET", "/api/presets/?category=style", None).await;
    let listed = listed["items"].as_array().cloned().unwrap_or_default();
    assert!(
        listed
            .iter()
            .any(|p| p["id"] == "comic" && p["workflow"] == "model_free")
    );
    let mut renamed = preset("Make it a comic");
    renamed["workflow"] = json!("comic_v2");
    let (status, updated) = f.call("PUT", "/api/presets/comic", Some(renamed)).await;
    assert_eq!(
        (status, updated["workflow"].as_str()),
        (200, Some("comic_v2"))
    );
    let (status, _) = f
        .call("PUT", "/api/presets/comic", Some(preset("Make it a comic")))
        .await;
    let (_, got) = f.call("GET", "/api/presets/comic", None).await;
    assert_eq!(
        (status, &got["workflow"]),
        (200, &json!(null)),
        "a PUT without it goes back to the default"
    );
    f.cleanup().await;
}

#[tokio::test]
async fn an_unsafe_workflow_name_is_refused() {
    let f = ApiFixture::start("presets_workflow_invalid").await;
    let long = "a".repeat(65);
    let names = [
        json!(""),
        json!("Qwen"),
        json!("../qwen_edit_2511"),
        json!("qwen-edit"),
        json!("qwen_edit_2511.json"),
        json!(long),
        json!(7),
    ];
    for name in names {
        let mut body = preset("ok");
        body["workflow"] = name.clone();
        let (status, resp) = f.call("POST", "/api/presets/flow", Some(body)).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str()),
            (422, Some("invalid_preset")),
            "{name}: {resp}"
        );
    }
    let (status, _) = f.call("GET", "/api/presets/flow", None).await;
    assert_eq!(status, 404, "nothing was stored");
    f.cleanup().await;
}
