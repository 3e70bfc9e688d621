//! End to end inside the real Spin runtime: `spin up` on the project's `spin.toml` (the built
//! components), a private `redis-server`, the fake Bot API, YooKassa and ComfyUI, and a real
//! `gpu-host` process. The tests talk to Spin over loopback HTTP only, as Telegram, YooKassa,
//! operators and the GPU hosts do.
//!
//! Every test has its own edge (Spin, Redis, fakes, secrets), so the tests run in parallel
//! and a failure stays in its test. Each one ends by checking that no secret reached the
//! component logs. Without the Spin CLI on `PATH` they are skipped (a failure when `CI` is
//! set).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::edge::{Edge, buttons, field_is, mentions, url_buttons};
use testkit::fakes::comfyui::{Behaviour, FakeComfy, TINY_PNG};
use testkit::fakes::telegram::Failure as TgFailure;
use testkit::fakes::yookassa::Failure as YkFailure;
use testkit::updates::{callback, photo, pre_checkout, successful_payment, text};

/// The 5 orders of an album of 3 that are not the album's own order.
const SHUFFLES: [[usize; 3]; 5] = [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

/// Delivers the album `files` (message ids `first_message_id`…) of `user` concurrently, the
/// requests started in `order`; asserts every answer is 200.
async fn deliver_album(
    edge: &Edge,
    user: i64,
    group: &str,
    files: &[String],
    first_message_id: i64,
    order: &[usize],
) {
    let updates: Vec<Value> = order
        .iter()
        .map(|&i| {
            photo(
                edge.update_id(),
                first_message_id + i as i64,
                user,
                &files[i],
                Some(group),
            )
        })
        .collect();
    let statuses = futures::future::join_all(updates.iter().map(|u| edge.post_update(u))).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "album {group} delivered in order {order:?}: answers {statuses:?}"
    );
}

fn job_body(user: i64, extra: Value) -> Value {
    let mut body = json!({"telegram_id": user, "file_ids": ["AgACAgIAAxkBAAIBY2Vf"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

fn file_ids(job: &Value) -> Vec<String> {
    job["file_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no file_ids in {job}"))
        .iter()
        .map(|f| f.as_str().unwrap_or("").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------- REST

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_users_presets_jobs_cancel_and_balance() {
    let Some(spin) = testkit::spin::spin_for_test("rest_users_presets_jobs_cancel_and_balance")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4101;

    let (status, health) = edge.api_raw("GET", "/health", None, None).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );

    let body = json!({"telegram_id": user, "first_name": "Anna", "language_code": "ru"});
    let (status, created) = edge.api("POST", "/api/users/", Some(body.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["balance"], 100, "signup bonus: {created}");
    let (status, again) = edge.api("POST", "/api/users/", Some(body)).await;
    assert_eq!(status, 200, "a second upsert updates: {again}");
    assert_eq!(again["balance"], 100, "the bonus is paid once: {again}");
    let (status, profile) = edge.api("GET", &format!("/api/users/{user}"), None).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(
        (profile["telegram_id"].as_i64(), profile["balance"].as_i64()),
        (Some(user), Some(100)),
        "{profile}"
    );
    assert_eq!(profile["jobs"]["total"], 0, "{profile}");
    let (status, missing) = edge.api("GET", "/api/users/4199", None).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("user_not_found")),
        "{missing}"
    );

    let (status, presets) = edge.api("GET", "/api/presets/", None).await;
    assert_eq!(status, 200, "{presets}");
    let all = presets["items"].as_array().expect("preset items");
    assert!(all.iter().any(|p| p["id"] == "anime"), "{presets}");
    let (status, styles) = edge.api("GET", "/api/presets/?category=style", None).await;
    assert_eq!(status, 200, "{styles}");
    let styles = styles["items"].as_array().expect("style items");
    assert!(
        !styles.is_empty()
            && styles.len() < all.len()
            && styles.iter().all(|p| p["category"] == "style")
            && styles.iter().any(|p| p["id"] == "anime"),
        "{styles:?}"
    );
    let (status, cats) = edge.api("GET", "/api/presets/categories", None).await;
    assert_eq!(status, 200, "{cats}");
    let ids: Vec<&str> = cats["items"]
        .as_array()
        .expect("category items")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["style", "portrait", "scene"], "{cats}");

    let (status, by_preset) = edge
        .api(
            "POST",
            "/api/jobs/",
            Some(job_body(user, json!({"preset_id": "anime"}))),
        )
        .await;
    assert_eq!(status, 201, "{by_preset}");
    assert_eq!(
        (
            by_preset["cost"].as_i64(),
            by_preset["balance_after"].as_i64(),
            by_preset["status"].as_str()
        ),
        (Some(10), Some(90), Some("queued")),
        "{by_preset}"
    );
    let preset_job = by_preset["job_id"].as_str().expect("job_id").to_owned();
    let prompt = "Make the sky pink";
    let (status, by_prompt) = edge
        .api(
            "POST",
            "/api/jobs/",
            Some(job_body(user, json!({"prompt": prompt}))),
        )
        .await;
    assert_eq!(status, 201, "{by_prompt}");
    assert_eq!(
        (
            by_prompt["cost"].as_i64(),
            by_prompt["balance_after"].as_i64()
        ),
        (Some(10), Some(80)),
        "{by_prompt}"
    );
    assert_eq!(by_prompt["job"]["prompt"], prompt, "{by_prompt}");
    assert_eq!(by_prompt["queue_position"], 1, "one job ahead: {by_prompt}");

    let (status, job) = edge
        .api("GET", &format!("/api/jobs/{preset_job}"), None)
        .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(
        (
            job["id"].as_str(),
            job["status"].as_str(),
            job["preset_id"].as_str(),
            job["user_id"].as_i64(),
            job["workflow"].as_str(),
        ),
        (
            Some(preset_job.as_str()),
            Some("queued"),
            Some("anime"),
            Some(user),
            Some("model_free")
        ),
        "{job}"
    );
    assert_eq!(file_ids(&job), ["AgACAgIAAxkBAAIBY2Vf"]);
    assert_eq!(job["queue_position"], 0, "{job}");

    let cancel = format!("/api/jobs/{preset_job}/cancel");
    let (status, cancelled) = edge.api("POST", &cancel, None).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(
        (
            cancelled["job"]["status"].as_str(),
            cancelled["refunded"].as_i64(),
            cancelled["balance"].as_i64()
        ),
        (Some("cancelled"), Some(10), Some(90)),
        "{cancelled}"
    );
    let (status, twice) = edge.api("POST", &cancel, None).await;
    assert_eq!(
        status, 409,
        "a cancelled job cannot be cancelled again: {twice}"
    );
    let (status, balance) = edge.api("GET", &format!("/api/balance/{user}"), None).await;
    assert_eq!(
        (status, balance["balance"].as_i64()),
        (200, Some(90)),
        "{balance}"
    );
    assert_eq!(edge.balance(user).await, 90);
    assert_eq!(
        edge.ledger_kinds(user).await,
        ["signup_bonus", "job_charge", "job_charge", "job_refund"]
    );

    // Bad input.
    let jobs = "/api/jobs/";
    let valid = serde_json::to_vec(&job_body(user, json!({"preset_id": "anime"}))).expect("json");
    for token in [Some("wrong-token"), None] {
        let (status, body) = edge.api_raw("POST", jobs, token, Some(valid.clone())).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "token {token:?}: {body}"
        );
        let (status, _) = edge
            .api_raw("GET", &format!("/api/users/{user}"), token, None)
            .await;
        assert_eq!(status, 401, "GET with token {token:?}");
    }
    let token = edge.secrets.api_token.clone();
    for garbage in [&b"{not json"[..], b"{\"telegram_id\": 4101,"] {
        let (status, body) = edge
            .api_raw("POST", jobs, Some(&token), Some(garbage.to_vec()))
            .await;
        assert_eq!(status, 400, "{}: {body}", String::from_utf8_lossy(garbage));
    }
    let (status, body) = edge
        .api_raw(
            "POST",
            "/api/users/",
            Some(&token),
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = edge
        .api(
            "POST",
            jobs,
            Some(job_body(user, json!({"preset_id": "no_such_preset"}))),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("preset_not_found")),
        "{body}"
    );
    for bad in [String::new(), "   ".to_owned(), "я".repeat(501)] {
        let (status, body) = edge
            .api("POST", jobs, Some(job_body(user, json!({"prompt": bad}))))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid_prompt")),
            "prompt of {} chars: {body}",
            bad.chars().count()
        );
    }
    let huge = job_body(user, json!({"prompt": "x".repeat(70_000)}));
    let (status, body) = edge.api("POST", jobs, Some(huge)).await;
    assert_eq!(status, 413, "a 70 kB body is over max_body_bytes: {body}");
    assert_eq!(
        edge.balance(user).await,
        90,
        "no bad request charged anything"
    );
    let (status, body) = edge
        .api(
            "POST",
            jobs,
            Some(job_body(user, json!({"prompt": "я".repeat(500)}))),
        )
        .await;
    assert_eq!(
        status, 201,
        "500 characters is the limit, not over it: {body}"
    );
    assert_eq!(edge.balance(user).await, 80);

    edge.assert_no_secrets_in_logs(&[]);
}

// ---------------------------------------------------------------------------------- the bot

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_preset_walk_with_an_album_and_a_fourth_photo() {
    let Some(spin) =
        testkit::spin::spin_for_test("bot_preset_walk_with_an_album_and_a_fourth_photo")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4201;
    edge.start_user(user).await;
    assert_eq!(
        buttons(&edge.last(user)),
        ["cats", "custom", "profile", "topup", "lang", "help"],
        "main menu"
    );
    assert_eq!(edge.balance(user).await, 100, "/start registered the user");

    edge.send(&callback(edge.update_id(), user, "cats", 1))
        .await;
    let cats = buttons(&edge.last(user));
    assert!(cats.contains(&"cat:style:0".to_owned()), "{cats:?}");
    edge.send(&callback(edge.update_id(), user, "cat:style:0", 1))
        .await;
    let presets = buttons(&edge.last(user));
    assert!(presets.contains(&"preset:anime".to_owned()), "{presets:?}");
    edge.send(&callback(edge.update_id(), user, "preset:anime", 1))
        .await;
    assert!(
        edge.last_text(user).contains("Отправьте фото"),
        "{}",
        edge.last_text(user)
    );

    let files: Vec<String> = (101..=103).map(|m| format!("WALK-{m}")).collect();
    deliver_album(&edge, user, "walk-album", &files, 101, &[2, 0, 1]).await;
    let album_replies = edge
        .texts(user)
        .iter()
        .filter(|t| t.contains("Альбом получен"))
        .count();
    assert_eq!(
        album_replies,
        1,
        "one reply for the whole album: {:?}",
        edge.texts(user)
    );
    edge.send(&photo(
        edge.update_id(),
        104,
        user,
        "WALK-104",
        Some("walk-album"),
    ))
    .await;
    assert!(
        edge.last_text(user).contains("не больше 3 фото"),
        "the 4th photo is refused with a message: {}",
        edge.last_text(user)
    );

    edge.send(&callback(edge.update_id(), user, "go", 2)).await;
    let jobs = edge.jobs(user).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    let id = job["id"].as_str().expect("job id");
    assert!(
        edge.last_text(user).contains("Задание принято") && edge.last_text(user).contains(id),
        "{}",
        edge.last_text(user)
    );
    assert_eq!(
        (job["preset_id"].as_str(), job["cost"].as_i64()),
        (Some("anime"), Some(10)),
        "{job}"
    );
    let mut got = file_ids(job);
    got.sort();
    assert_eq!(got, files, "the album's 3 photos, not the 4th");
    assert_eq!(file_ids(job), files, "in the album's message order");
    assert_eq!(edge.balance(user).await, 90);
    assert_eq!(
        edge.tg.calls_of("answerCallbackQuery").len(),
        4,
        "every button press is answered"
    );
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_albums_delivered_concurrently_keep_their_message_order() {
    let Some(spin) =
        testkit::spin::spin_for_test("bot_albums_delivered_concurrently_keep_their_message_order")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let mut wrong = Vec::new();
    for round in 0..10_i64 {
        let user = 4300 + round;
        edge.start_user(user).await;
        edge.send(&callback(edge.update_id(), user, "preset:anime", 1))
            .await;
        let files: Vec<String> = (101..=103).map(|m| format!("ALB{round}-{m}")).collect();
        let order = SHUFFLES[round as usize % SHUFFLES.len()];
        let group = format!("album-{round}");
        deliver_album(&edge, user, &group, &files, 101, &order).await;
        edge.send(&callback(edge.update_id(), user, "go", 2)).await;
        let jobs = edge.jobs(user).await;
        assert_eq!(jobs.len(), 1, "album {round}: one job: {jobs:?}");
        let got = file_ids(&jobs[0]);
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, files, "album {round}: every photo kept");
        if got != files {
            wrong.push(format!(
                "album {round} delivered in order {order:?} became {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 10 albums lost their message order (101, 102, 103):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_custom_prompt_walk() {
    let Some(spin) = testkit::spin::spin_for_test("bot_custom_prompt_walk") else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4401;
    edge.start_user(user).await;
    edge.send(&callback(edge.update_id(), user, "custom", 1))
        .await;
    assert!(
        edge.last_text(user).contains("10 кр."),
        "the price is shown: {}",
        edge.last_text(user)
    );
    edge.send(&text(edge.update_id(), user, "too early")).await;
    assert_eq!(edge.last_text(user), "Сначала отправьте фото.");
    edge.send(&photo(edge.update_id(), 50, user, "PROMPT-PHOTO", None))
        .await;
    assert!(
        edge.last_text(user).contains("Напишите, что изменить"),
        "{}",
        edge.last_text(user)
    );
    for bad in ["   ".to_owned(), "a".repeat(501)] {
        edge.send(&text(edge.update_id(), user, &bad)).await;
        let want = match bad.len() {
            501 => "Промпт длиннее 500 символов: в вашем 501. Сократите его и отправьте снова.",
            _ => "Промпт должен быть от 1 до 500 символов",
        };
        assert_eq!(edge.last_text(user), want, "prompt of {} chars", bad.len());
    }
    assert!(
        edge.jobs(user).await.is_empty(),
        "no job from a refused prompt"
    );
    let prompt = "Make the sky pink";
    edge.send(&text(edge.update_id(), user, prompt)).await;
    assert!(
        edge.last_text(user).contains("Задание принято"),
        "{}",
        edge.last_text(user)
    );
    let jobs = edge.jobs(user).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (
            jobs[0]["prompt"].as_str(),
            jobs[0]["preset_id"].as_str(),
            jobs[0]["cost"].as_i64()
        ),
        (Some(prompt), None, Some(10)),
        "{}",
        jobs[0]
    );
    assert_eq!(file_ids(&jobs[0]), ["PROMPT-PHOTO"]);
    assert_eq!(edge.balance(user).await, 90);
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_top_up_by_card_is_credited_by_the_yookassa_notification() {
    let Some(spin) =
        testkit::spin::spin_for_test("bot_top_up_by_card_is_credited_by_the_yookassa_notification")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4501;
    edge.start_user(user).await;
    edge.send(&callback(edge.update_id(), user, "topup", 1))
        .await;
    let methods = buttons(&edge.last(user));
    assert!(
        methods.contains(&"paym:yookassa_card".to_owned())
            && methods.contains(&"paym:stars".to_owned()),
        "{methods:?}"
    );
    edge.send(&callback(edge.update_id(), user, "paym:yookassa_card", 1))
        .await;
    let packages = buttons(&edge.last(user));
    assert!(
        packages.contains(&"pkg:yookassa_card:300".to_owned()),
        "{packages:?}"
    );
    edge.send(&callback(
        edge.update_id(),
        user,
        "pkg:yookassa_card:300",
        1,
    ))
    .await;
    let yk = edge.yk.payments();
    assert_eq!(yk.len(), 1, "one YooKassa payment: {yk:?}");
    let provider_id = yk[0]["id"].as_str().expect("yookassa id").to_owned();
    let pay_url = yk[0]["confirmation"]["confirmation_url"]
        .as_str()
        .expect("confirmation url")
        .to_owned();
    let offer = edge.last(user);
    assert_eq!(
        url_buttons(&offer),
        [pay_url],
        "the Pay button opens YooKassa"
    );
    assert!(
        offer.param("text").as_str().unwrap_or("").contains("300"),
        "{offer:?}"
    );
    assert_eq!(
        edge.balance(user).await,
        100,
        "nothing credited before payment"
    );

    edge.yk.set_status(&provider_id, "succeeded");
    let note = edge.yk.notification("payment.succeeded", &provider_id);
    let (status, answer) = edge.notify(&note).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(edge.balance(user).await, 430, "300 credits + 10% bonus");
    edge.wait_text(user, "Баланс пополнен", 1).await;
    let (status, answer) = edge.notify(&note).await;
    assert_eq!(status, 200, "a redelivered notification: {answer}");
    assert_eq!(edge.balance(user).await, 430, "credited once");
    let told = edge
        .texts(user)
        .iter()
        .filter(|t| t.contains("Баланс пополнен"))
        .count();
    assert_eq!(told, 1, "told once: {:?}", edge.texts(user));
    let payments = edge.payments(user).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0]["status"], "succeeded", "{}", payments[0]);
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_top_up_by_telegram_stars_is_credited_once() {
    let Some(spin) = testkit::spin::spin_for_test("bot_top_up_by_telegram_stars_is_credited_once")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4551;
    edge.start_user(user).await;
    edge.send(&callback(edge.update_id(), user, "topup", 1))
        .await;
    edge.send(&callback(edge.update_id(), user, "paym:stars", 1))
        .await;
    let packages = buttons(&edge.last(user));
    assert!(
        packages.contains(&"pkg:stars:100".to_owned()),
        "{packages:?}"
    );
    edge.send(&callback(edge.update_id(), user, "pkg:stars:100", 1))
        .await;
    let payments = edge.payments(user).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    let payment_id = payments[0]["id"].as_str().expect("payment id").to_owned();
    let invoices = edge.tg.calls_of("sendInvoice");
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    let invoice = &invoices[0];
    assert_eq!(invoice.chat_id(), Some(user));
    assert_eq!(invoice.param("payload").as_str(), Some(payment_id.as_str()));
    assert_eq!(invoice.param("currency").as_str(), Some("XTR"));
    assert_eq!(
        invoice.status, 200,
        "the fake accepted the invoice: {invoice:?}"
    );
    assert!(edge.yk.requests().is_empty(), "Stars never call YooKassa");

    let query = pre_checkout(edge.update_id(), user, &payment_id, 100);
    let query_id = query["pre_checkout_query"]["id"]
        .as_str()
        .expect("query id")
        .to_owned();
    edge.send(&query).await;
    let answers = edge.tg.calls_of("answerPreCheckoutQuery");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(
        (
            answers[0].param("pre_checkout_query_id").as_str(),
            answers[0].param("ok").as_bool()
        ),
        (Some(query_id.as_str()), Some(true)),
        "{answers:?}"
    );
    assert_eq!(
        edge.balance(user).await,
        100,
        "nothing credited before the payment"
    );

    let charge = "stxE2eCharge0001";
    edge.send(&successful_payment(
        edge.update_id(),
        user,
        &payment_id,
        100,
        charge,
    ))
    .await;
    assert_eq!(
        edge.balance(user).await,
        210,
        "100 stars = 100 credits + 10% bonus"
    );
    edge.wait_text(user, "Баланс пополнен", 1).await;
    edge.send(&successful_payment(
        edge.update_id(),
        user,
        &payment_id,
        100,
        charge,
    ))
    .await;
    assert_eq!(
        edge.balance(user).await,
        210,
        "the same charge credits once"
    );
    let told = edge
        .texts(user)
        .iter()
        .filter(|t| t.contains("Баланс пополнен"))
        .count();
    assert_eq!(told, 1, "{:?}", edge.texts(user));
    let kinds = edge.ledger_kinds(user).await;
    assert_eq!(kinds, ["signup_bonus", "topup", "topup_bonus"], "{kinds:?}");
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_users_pressing_buttons_for_four_seconds_always_get_200() {
    let Some(spin) = testkit::spin::spin_for_test(
        "eight_users_pressing_buttons_for_four_seconds_always_get_200",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let users: Vec<i64> = (4701..4709).collect();
    for &u in &users {
        edge.start_user(u).await;
    }
    edge.tg.clear_calls();
    const PRESSES: [&str; 8] = [
        "cats",
        "cat:style:0",
        "cat:portrait:0",
        "profile",
        "help",
        "lang",
        "lang:ru",
        "menu",
    ];
    let end = Instant::now() + Duration::from_secs(4);
    let runs = users.iter().map(|&user| {
        let edge = &edge;
        async move {
            let mut answers = Vec::new();
            let mut i = 0;
            while Instant::now() < end {
                let data = PRESSES[i % PRESSES.len()];
                let started = Instant::now();
                let status = edge
                    .post_update(&callback(edge.update_id(), user, data, 7))
                    .await;
                answers.push((data, status, started.elapsed()));
                i += 1;
            }
            answers
        }
    });
    let answers: Vec<(&str, u16, Duration)> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let bad: Vec<_> = answers.iter().filter(|a| a.1 != 200).collect();
    assert!(
        bad.is_empty(),
        "{} of {} button presses were not answered 200: {:?}",
        bad.len(),
        answers.len(),
        &bad[..bad.len().min(20)]
    );
    assert!(
        answers.len() >= 8 * 2,
        "only {} presses by 8 users in 4 s: {answers:?}",
        answers.len()
    );
    let slowest = answers.iter().map(|a| a.2).max().unwrap_or_default();
    eprintln!(
        "{} presses by 8 users in 4 s, all 200, slowest {slowest:?}",
        answers.len()
    );
    assert_eq!(
        edge.tg.calls_of("answerCallbackQuery").len(),
        answers.len(),
        "every press was answered (the spinner stops)"
    );
    edge.assert_no_secrets_in_logs(&[]);
}

// ---------------------------------------------------------------------------------- gpu-host

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_host_delivers_a_bot_job_once_and_charges_once() {
    let Some(spin) =
        testkit::spin::spin_for_test("gpu_host_delivers_a_bot_job_once_and_charges_once")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let comfy = FakeComfy::start().await;
    let mut host = edge.gpu_host(&comfy);
    let user = 4801;
    edge.tg.add_file("GPU-PHOTO-1", TINY_PNG.to_vec());
    edge.start_user(user).await;
    edge.send(&callback(edge.update_id(), user, "preset:anime", 1))
        .await;
    edge.send(&photo(edge.update_id(), 20, user, "GPU-PHOTO-1", None))
        .await;
    edge.send(&callback(edge.update_id(), user, "go", 2)).await;
    let jobs = edge.jobs(user).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job_id = jobs[0]["id"].as_str().expect("job id").to_owned();
    assert_eq!(jobs[0]["workflow"], "model_free", "{}", jobs[0]);

    let job = edge.wait_job_final(&job_id).await;
    assert_eq!(
        job["status"],
        "succeeded",
        "{job}\ngpu-host log:\n{}",
        host.log()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let photos = edge.tg.calls_of("sendPhoto");
    assert_eq!(
        photos.len(),
        1,
        "the photo is sent exactly once: {photos:?}"
    );
    assert_eq!(
        (photos[0].chat_id(), photos[0].status),
        (Some(user), 200),
        "to the user's chat: {photos:?}"
    );
    assert_eq!(
        photos[0].file("photo").map(|f| f.bytes.as_slice()),
        Some(TINY_PNG),
        "the picture ComfyUI made"
    );
    assert_eq!(comfy.prompts().len(), 1, "one ComfyUI run");
    assert_eq!(edge.balance(user).await, 90, "charged once");
    assert_eq!(
        edge.ledger_kinds(user).await,
        ["signup_bonus", "job_charge"]
    );
    let (status, profile) = edge.api("GET", &format!("/api/users/{user}"), None).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["jobs"]["total"], 1, "{profile}");
    assert!(host.is_running(), "the host keeps running");
    host.stop(Duration::from_secs(10));
    edge.assert_no_secrets_in_logs(&[("the gpu-host log", host.log())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_host_failed_job_is_refunded_and_logged_with_its_id() {
    let Some(spin) =
        testkit::spin::spin_for_test("gpu_host_failed_job_is_refunded_and_logged_with_its_id")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let comfy = FakeComfy::start().await;
    comfy.push_behaviour(Behaviour::ExecutionError);
    let mut host = edge.gpu_host(&comfy);
    let user = 4851;
    edge.register(user).await;
    edge.tg.add_file("GPU-FAIL-1", TINY_PNG.to_vec());
    let body = json!({"telegram_id": user, "preset_id": "anime", "file_ids": ["GPU-FAIL-1"]});
    let (status, created) = edge.api("POST", "/api/jobs/", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let job_id = created["job_id"].as_str().expect("job id").to_owned();
    assert_eq!(edge.balance(user).await, 90);

    let job = edge.wait_job_final(&job_id).await;
    assert_eq!(
        job["status"],
        "failed",
        "{job}\ngpu-host log:\n{}",
        host.log()
    );
    assert_eq!(edge.balance(user).await, 100, "the failed job is refunded");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(edge.balance(user).await, 100, "refunded once");
    assert_eq!(
        edge.ledger_kinds(user).await,
        ["signup_bonus", "job_charge", "job_refund"]
    );
    assert!(
        edge.tg.calls_of("sendPhoto").is_empty(),
        "no photo for a failed job"
    );
    host.stop(Duration::from_secs(10));
    edge.assert_logged(
        "api",
        &["WARN", "ERROR", "INFO"],
        &format!("the failed job {job_id}"),
        |m| field_is(m, "job_id", &job_id) && mentions(m, "failed"),
    );
    edge.assert_no_secrets_in_logs(&[("the gpu-host log", host.log())]);
}

// ---------------------------------------------------------------------------------- YooKassa

/// Registers `user` and creates a 300 ₽ card payment; returns (our id, YooKassa's id).
async fn card_payment(edge: &Edge, user: i64) -> (String, String) {
    edge.register(user).await;
    edge.on(0).card_payment(user).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_yookassa_notification_delivered_ten_times_concurrently_credits_once() {
    let Some(spin) = testkit::spin::spin_for_test(
        "one_yookassa_notification_delivered_ten_times_concurrently_credits_once",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4901;
    let (ours, theirs) = card_payment(&edge, user).await;
    edge.yk.set_status(&theirs, "succeeded");
    let note = edge.yk.notification("payment.succeeded", &theirs);
    let answers = futures::future::join_all((0..10).map(|_| edge.notify(&note))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every delivery answered 200: {answers:?}"
    );
    edge.on(0).assert_credited_once(user, &ours).await;
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_yookassa_notifications_credit_nothing_and_are_logged() {
    let Some(spin) =
        testkit::spin::spin_for_test("forged_yookassa_notifications_credit_nothing_and_are_logged")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4951;
    let (ours, theirs) = card_payment(&edge, user).await;

    // The payment is still pending at YooKassa; the notification claims it succeeded.
    let mut forged = edge.yk.notification("payment.succeeded", &theirs);
    forged["object"]["status"] = json!("succeeded");
    forged["object"]["paid"] = json!(true);
    let (status, answer) = edge.notify(&forged).await;
    assert_eq!(
        status, 200,
        "a forgery is acknowledged, not retried: {answer}"
    );
    assert_eq!(edge.balance(user).await, 100, "nothing credited: {answer}");
    let (_, row) = edge
        .api("GET", &format!("/api/payments/{ours}"), None)
        .await;
    assert_eq!(row["status"], "pending", "{row}");

    // Paid now, but the notification comes from an address outside the allowlist.
    edge.yk.set_status(&theirs, "succeeded");
    let real = edge.yk.notification("payment.succeeded", &theirs);
    let outsider = Ipv4Addr::new(127, 0, 0, 2);
    let (status, answer) = edge.notify_from(outsider, &real, &[]).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        edge.balance(user).await,
        100,
        "nothing credited from an outsider"
    );

    // The same notification from YooKassa's (allowlisted) address is credited.
    let (status, answer) = edge.notify(&real).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(edge.balance(user).await, 430);

    edge.assert_logged(
        "payments",
        &["WARN", "ERROR"],
        &format!("the forged notification for the pending payment {ours} (YooKassa {theirs})"),
        |m| field_is(m, "payment_id", &ours) || field_is(m, "provider_id", &theirs),
    );
    edge.assert_logged(
        "payments",
        &["WARN", "ERROR"],
        &format!("the notification about {theirs} from 127.0.0.2 (not allowlisted)"),
        |m| {
            (field_is(m, "payment_id", &theirs) || field_is(m, "provider_id", &theirs))
                && mentions(m, "127.0.0.2")
        },
    );
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yookassa_source_address_cannot_be_forged_with_a_header() {
    let Some(spin) =
        testkit::spin::spin_for_test("yookassa_source_address_cannot_be_forged_with_a_header")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 4961;
    let (_, theirs) = card_payment(&edge, user).await;
    edge.yk.set_status(&theirs, "succeeded");
    let note = edge.yk.notification("payment.succeeded", &theirs);
    // A client at 127.0.0.2 claims, in Spin's own header, to be the allowlisted 127.0.0.1.
    let (status, answer) = edge
        .notify_from(
            Ipv4Addr::new(127, 0, 0, 2),
            &note,
            &[("spin-client-addr", "127.0.0.1:443")],
        )
        .await;
    assert_eq!(
        status, 403,
        "the allowlist must use the connection's address, not a header the client sent: {answer}"
    );
    assert_eq!(edge.balance(user).await, 100, "nothing credited");
    edge.assert_no_secrets_in_logs(&[]);
}

// ---------------------------------------------------------------------------------- failures

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_webhook_secret_is_refused_and_logged_with_the_update_id() {
    let Some(spin) = testkit::spin::spin_for_test(
        "wrong_webhook_secret_is_refused_and_logged_with_the_update_id",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 5001;
    let wrong_id = 777_001;
    let update = text(wrong_id, user, "/start");
    let status = edge
        .post_update_with(&update, Some("not-the-webhook-secret"))
        .await;
    assert_eq!(status, 401, "wrong secret");
    let status = edge
        .post_update_with(&text(777_002, user, "/start"), None)
        .await;
    assert_eq!(status, 401, "no secret");
    assert!(edge.tg.calls().is_empty(), "nothing was sent");
    let (status, _) = edge.api("GET", &format!("/api/users/{user}"), None).await;
    assert_eq!(status, 404, "nobody was registered");
    // The same update with the right secret is handled.
    edge.send(&update).await;
    assert_eq!(edge.balance(user).await, 100);
    edge.assert_logged(
        "telegram",
        &["WARN", "ERROR"],
        &format!("the webhook call {wrong_id} with a wrong secret"),
        |m| field_is(m, "update_id", &wrong_id.to_string()),
    );
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_jobs_against_a_balance_for_ten_accept_exactly_ten() {
    let Some(spin) = testkit::spin::spin_for_test(
        "fifty_concurrent_jobs_against_a_balance_for_ten_accept_exactly_ten",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let user = 5051;
    edge.register(user).await;
    assert_eq!(
        edge.balance(user).await,
        100,
        "the signup bonus covers ten edits"
    );
    // One instance serves these at once, so their charges meet in one write queue and are
    // committed in batches: each refused charge must stay alone and the rest stand.
    let answers = futures::future::join_all((0..50).map(|_| {
        edge.api(
            "POST",
            "/api/jobs/",
            Some(job_body(user, json!({"preset_id": "anime"}))),
        )
    }))
    .await;
    let accepted = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers.iter().filter(|(s, _)| *s == 402).count();
    assert_eq!((accepted, refused), (10, 40), "{answers:?}");
    assert_eq!(edge.balance(user).await, 0);
    let (status, profile) = edge.api("GET", &format!("/api/users/{user}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(profile["jobs"]["total"], 10, "{profile}");
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_job_is_503_and_refunded_then_accepted_after_restart() {
    let Some(spin) = testkit::spin::spin_for_test(
        "redis_down_job_is_503_and_refunded_then_accepted_after_restart",
    ) else {
        return;
    };
    let mut edge = Edge::start(&spin, &[]).await;
    let user = 5101;
    edge.register(user).await;
    let job = || job_body(user, json!({"preset_id": "anime"}));
    let (status, body) = edge.api("POST", "/api/jobs/", Some(job())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(edge.balance(user).await, 90);

    edge.redis.stop();
    let started = Instant::now();
    let (status, body) = edge.api("POST", "/api/jobs/", Some(job())).await;
    assert_eq!(status, 503, "Redis down: {body}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(edge.balance(user).await, 90, "the charge was refunded");
    let (status, health) = edge.api_raw("GET", "/health", None, None).await;
    assert_eq!(
        (status, health["queue"].as_str()),
        (503, Some("unavailable")),
        "{health}"
    );

    edge.redis.start_again().await;
    let (status, body) = edge.api("POST", "/api/jobs/", Some(job())).await;
    assert_eq!(status, 201, "the next job after Redis is back: {body}");
    assert_eq!(edge.balance(user).await, 80);
    let (status, health) = edge.api_raw("GET", "/health", None, None).await;
    assert_eq!(status, 200, "{health}");
    edge.assert_no_secrets_in_logs(&[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs_even_when_calls_fail() {
    let Some(spin) =
        testkit::spin::spin_for_test("secrets_never_reach_the_logs_even_when_calls_fail")
    else {
        return;
    };
    let edge = Edge::start(&spin, &[("telegram_timeout_ms", "1000")]).await;
    let user = 5201;
    edge.start_user(user).await;
    // The Bot API fails in every way it can while the bot answers.
    for failure in [
        TgFailure::ServerError,
        TgFailure::BadGateway,
        TgFailure::TooManyRequests { retry_after: 2 },
        TgFailure::Hang(Duration::from_millis(2500)),
    ] {
        edge.tg.fail_next("sendMessage", 1, failure.clone());
        edge.tg.fail_next("editMessageText", 1, failure.clone());
        edge.tg.fail_next("answerCallbackQuery", 1, failure);
        let status = edge
            .post_update(&callback(edge.update_id(), user, "profile", 1))
            .await;
        assert!(status == 200 || status == 503, "answered {status}");
        let status = edge
            .post_update(&text(edge.update_id(), user, "/balance"))
            .await;
        assert!(status == 200 || status == 503, "answered {status}");
    }
    // YooKassa refuses the credentials, fails, then is down.
    edge.yk
        .fail_next("/v3/payments", 1, YkFailure::Unauthorized);
    edge.yk.fail_next("/v3/payments", 1, YkFailure::ServerError);
    for _ in 0..2 {
        edge.post_update(&callback(
            edge.update_id(),
            user,
            "pkg:yookassa_card:100",
            1,
        ))
        .await;
    }
    edge.yk.set_down(true);
    edge.post_update(&callback(edge.update_id(), user, "pkg:yookassa_sbp:100", 1))
        .await;
    edge.yk.set_down(false);
    // Wrong credentials of every kind.
    let (status, _) = edge
        .api_raw("GET", "/api/users/5201", Some("not-the-api-token"), None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = edge
        .api_raw(
            "POST",
            "/internal/jobs/00000000-0000-0000-0000-000000000000/events",
            None,
            Some(br#"{"type":"started","attempt":1,"host":"x"}"#.to_vec()),
        )
        .await;
    assert_eq!(status, 401, "an unsigned gpu-host event");
    let status = edge
        .post_update_with(&text(edge.update_id(), user, "/start"), Some("guess"))
        .await;
    assert_eq!(status, 401);
    edge.assert_no_secrets_in_logs(&[]);
}

// ------------------------------------------------------------------ bounds and signatures

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_signed_stream_entries_and_bound_signatures_hold_inside_spin() {
    let Some(spin) = testkit::spin::spin_for_test(
        "the_cap_signed_stream_entries_and_bound_signatures_hold_inside_spin",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[("max_queued_per_user", "2")]).await;
    let user = 5301;
    edge.register(user).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = edge
            .api(
                "POST",
                "/api/jobs/",
                Some(job_body(user, json!({"preset_id": "anime"}))),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["job_id"].as_str().unwrap_or_default().to_owned());
    }
    let (status, body) = edge
        .api(
            "POST",
            "/api/jobs/",
            Some(job_body(user, json!({"preset_id": "anime"}))),
        )
        .await;
    assert_eq!(
        (
            status,
            body["error"]["code"].as_str(),
            body["error"]["cap"].as_i64()
        ),
        (429, Some("too_many_jobs"), Some(2)),
        "{body}"
    );
    assert_eq!(
        edge.balance(user).await,
        80,
        "the refused one is not charged"
    );
    // A job made by the bot (the telegram component) is signed too.
    let bot_user = 5302;
    edge.tg.add_file("CAP-PHOTO-1", TINY_PNG.to_vec());
    edge.start_user(bot_user).await;
    edge.send(&callback(edge.update_id(), bot_user, "preset:anime", 1))
        .await;
    edge.send(&photo(edge.update_id(), 20, bot_user, "CAP-PHOTO-1", None))
        .await;
    edge.send(&callback(edge.update_id(), bot_user, "go", 2))
        .await;
    let mut r = redis::Client::open(edge.redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("jobs")
        .arg("-")
        .arg("+")
        .query_async(&mut r)
        .await
        .expect("xrange");
    assert_eq!(entries.ids.len(), 3, "two REST jobs and the bot's");
    for e in &entries.ids {
        let job: String = e.get("job").expect("job field");
        let sig: String = e.get("sig").expect("sig field");
        let secret = edge.secrets.gpu_event_secret.as_bytes();
        assert_eq!(
            qwen_core::contract::signing::verify_job(secret, &job, Some(&sig)),
            Ok(()),
            "{job}"
        );
    }
    let ttl: i64 = redis::cmd("TTL")
        .arg("jobs")
        .query_async(&mut r)
        .await
        .expect("ttl");
    assert!(
        ttl > 0,
        "the stream expires when nothing is added any more: {ttl}"
    );
    let (_, fleet) = edge.api("GET", "/api/fleet", None).await;
    assert_eq!(fleet["backlog"]["waiting"], 3, "{fleet}");
    // A host's signature for one job's events is refused on another's.
    let body = br#"{"v":1,"attempt":1,"host":"gpu-a","at":0,"kind":{"type":"started"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let path = |id: &str| format!("/internal/jobs/{id}/events");
    let sig = qwen_core::contract::signing::sign(
        edge.secrets.gpu_event_secret.as_bytes(),
        now,
        "POST",
        &path(&ids[0]),
        body,
    );
    let post = |p: String| {
        reqwest::Client::new()
            .post(edge.app.url(&p))
            .header("x-qwen-timestamp", now.to_string())
            .header("x-qwen-signature", sig.clone())
            .body(body.to_vec())
            .send()
    };
    let replayed = post(path(&ids[1])).await.expect("post");
    assert_eq!(replayed.status().as_u16(), 401, "replayed on another job");
    let own = post(path(&ids[0])).await.expect("post");
    assert_eq!(own.status().as_u16(), 200, "valid on its own job");
    let (_, other) = edge
        .api("GET", &format!("/api/jobs/{}", ids[1]), None)
        .await;
    assert_eq!(other["status"], "queued", "{other}");
    edge.assert_no_secrets_in_logs(&[]);
}

/// Places a bot job for `user` with photo `file` and returns its id.
async fn bot_job(edge: &Edge, user: i64, file: &str) -> String {
    edge.tg.add_file(file, TINY_PNG.to_vec());
    edge.start_user(user).await;
    edge.send(&callback(edge.update_id(), user, "preset:anime", 1))
        .await;
    edge.send(&photo(edge.update_id(), 20, user, file, None))
        .await;
    edge.send(&callback(edge.update_id(), user, "go", 2)).await;
    let jobs = edge.jobs(user).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs[0]["id"].as_str().expect("job id").to_owned()
}

/// Three users inside the real runtime with a real gpu-host: while the first user's edit
/// runs, the second's waits inside ComfyUI's queue (position 1) and the third's is prepared
/// on the host (position 2). Both see their job as waiting, press ❌ Cancel in Telegram, get
/// their credits back, and neither job ever runs or sends anything; the first is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_waiting_for_the_gpu_are_cancelled_from_telegram_and_never_run() {
    let Some(spin) = testkit::spin::spin_for_test(
        "jobs_waiting_for_the_gpu_are_cancelled_from_telegram_and_never_run",
    ) else {
        return;
    };
    let edge = Edge::start(&spin, &[]).await;
    let comfy = FakeComfy::start().await;
    comfy.set_run_time(Duration::from_secs(4));
    let mut host = edge.gpu_host(&comfy);
    let (first, second, third) = (4901, 4902, 4903);
    let running = bot_job(&edge, first, "Q-PHOTO-1").await;
    let waiting = bot_job(&edge, second, "Q-PHOTO-2").await;
    let prepared = bot_job(&edge, third, "Q-PHOTO-3").await;
    let end = Instant::now() + Duration::from_secs(30);
    while comfy.prompts().len() < 2 || comfy.runs().is_empty() {
        assert!(
            Instant::now() < end,
            "two prompts in ComfyUI\n{}",
            host.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (user, id) in [(second, &waiting), (third, &prepared)] {
        let (_, job) = edge.api("GET", &format!("/api/jobs/{id}"), None).await;
        assert_eq!(
            job["status"], "queued",
            "user {user} sees the job waiting: {job}"
        );
        assert!(
            !edge.texts(user).iter().any(|t| t.contains('⏳')),
            "no progress bar for a job the GPU has not begun: {:?}",
            edge.texts(user)
        );
        edge.send(&callback(
            edge.update_id(),
            user,
            &format!("cancel:{id}"),
            3,
        ))
        .await;
        assert_eq!(edge.balance(user).await, 100, "user {user} refunded");
    }
    let job = edge.wait_job_final(&running).await;
    assert_eq!(job["status"], "succeeded", "{job}\n{}", host.log());
    tokio::time::sleep(Duration::from_secs(2)).await;
    for id in [&waiting, &prepared] {
        let (_, job) = edge.api("GET", &format!("/api/jobs/{id}"), None).await;
        assert_eq!(
            (job["status"].as_str(), job["started_at"].as_i64()),
            (Some("cancelled"), None),
            "{job}"
        );
    }
    let ran: Vec<String> = comfy.runs().iter().map(|r| r.prompt_id.clone()).collect();
    assert_eq!(
        ran.len(),
        1,
        "only the first job ran: {ran:?}\n{}",
        host.log()
    );
    let photos = edge.tg.calls_of("sendPhoto");
    assert_eq!(photos.len(), 1, "{photos:?}");
    assert_eq!(photos[0].chat_id(), Some(first));
    host.stop(Duration::from_secs(10));
    edge.assert_no_secrets_in_logs(&[("the gpu-host log", host.log())]);
}
