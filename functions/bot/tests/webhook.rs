//! The webhook protocol: secret, body limit, garbage, duplicates (also concurrent),
//! transient failures (5xx, then the redelivered update succeeds once), broken state.

mod common;

use common::{Bot, SECRET, body, buttons, callback, photo, request, started, text};
use serde_json::json;

#[tokio::test]
async fn wrong_or_missing_secret_is_401_and_nothing_happens() {
    let bot = Bot::start("bot-secret").await;
    let update = body(&text(1, 501, "/start"));
    for secret in [Some("wrong"), None, Some("")] {
        let resp = bot.env.call(&request(update.clone(), secret)).await;
        assert_eq!(resp.status, 401, "{secret:?}");
    }
    assert!(bot.tg.calls().is_empty());
    assert!(bot.user(501).await.is_none());
}

#[tokio::test]
async fn malformed_json_is_acknowledged_and_ignored() {
    let bot = Bot::start("bot-garbage").await;
    for garbage in [
        &b"{not json"[..],
        b"",
        b"[1,2,3]",
        b"{\"no_update_id\":true}",
    ] {
        let resp = bot.env.call(&request(garbage.to_vec(), Some(SECRET))).await;
        assert_eq!(resp.status, 200, "{:?}", String::from_utf8_lossy(garbage));
    }
    assert!(bot.tg.calls().is_empty());
}

#[tokio::test]
async fn oversized_body_is_413() {
    let bot = Bot::start("bot-size").await;
    let mut update = text(1, 502, "hello");
    update["message"]["text"] = json!("x".repeat(bot.env.settings.max_body_bytes + 1));
    let resp = bot.env.call(&request(body(&update), Some(SECRET))).await;
    assert_eq!(resp.status, 413);
    assert!(bot.tg.calls().is_empty());
}

#[tokio::test]
async fn get_is_405() {
    let bot = Bot::start("bot-method").await;
    let mut req = request(body(&text(1, 503, "/start")), Some(SECRET));
    req.method = "GET".into();
    assert_eq!(bot.env.call(&req).await.status, 405);
}

#[tokio::test]
async fn duplicate_update_is_handled_once() {
    let bot = Bot::start("bot-dup").await;
    let update = text(77, 504, "/start");
    for _ in 0..3 {
        assert_eq!(bot.post(&update).await, 200);
    }
    let greetings = bot.texts().iter().filter(|t| t.contains("Привет")).count();
    assert_eq!(greetings, 1, "{:?}", bot.texts());
    assert_eq!(bot.balance(504).await, 100);
}

#[test]
fn concurrent_duplicates_create_one_job() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let bot = rt.block_on(Bot::start("bot-dup-conc"));
    let user = 505;
    rt.block_on(async {
        started(&bot, user).await;
        bot.post(&callback(bot.id(), user, "preset:anime", 10))
            .await;
        bot.post(&photo(bot.id(), user, "PHOTO-A", None)).await;
    });
    let go = body(&callback(9_001, user, "go", 11));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let env = bot.env.clone();
            let go = go.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("rt");
                rt.block_on(env.call(&request(go, Some(SECRET)))).status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    rt.block_on(async {
        assert_eq!(bot.jobs(user).await.len(), 1);
        assert_eq!(bot.stream_len().await, 1);
        assert_eq!(bot.balance(user).await, 90);
        bot.cleanup().await;
    });
}

/// Posts the updates `bodies` from one thread each, all at once; returns their answers.
fn post_concurrently(env: &common::Env, bodies: Vec<Vec<u8>>) -> Vec<(u16, Vec<u8>)> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(bodies.len()));
    let threads: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let (env, barrier) = (env.clone(), barrier.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("rt");
                barrier.wait();
                let resp = rt.block_on(env.call(&request(b, Some(SECRET))));
                (resp.status, resp.body)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

fn album_replies(bot: &Bot) -> usize {
    bot.texts()
        .iter()
        .filter(|t| t.contains("Альбом получен"))
        .count()
}

#[tokio::test]
async fn album_photos_arriving_concurrently_keep_the_album_order() {
    // Eight jobs stay queued here (no host): lift the per-user cap for this test.
    let bot = Bot::start_with("bot-album-conc", |s| s.max_queued_per_user = 0).await;
    let user = 506;
    started(&bot, user).await;
    for round in 0..8 {
        bot.post(&callback(bot.id(), user, "preset:anime", 10))
            .await;
        let group = format!("grp-{round}");
        let mut photos: Vec<_> = (0..3)
            .map(|i| photo(bot.id(), user, &format!("ALB-{round}-{i}"), Some(&group)))
            .collect();
        photos.rotate_left(round % 3);
        if round % 2 == 1 {
            photos.reverse();
        }
        let replies_before = album_replies(&bot);
        let answers = post_concurrently(&bot.env, photos.iter().map(body).collect());
        for (status, answer) in &answers {
            assert_eq!(*status, 200);
            bot.tg.execute_webhook_answer(answer).await;
        }
        assert_eq!(
            album_replies(&bot),
            replies_before + 1,
            "round {round}: one reply for the album"
        );
        assert_eq!(bot.post(&callback(bot.id(), user, "go", 12)).await, 200);
        let jobs = bot.jobs(user).await;
        let want: Vec<String> = (0..3).map(|i| format!("ALB-{round}-{i}")).collect();
        assert_eq!(jobs[0].file_ids, want, "round {round}: the album's order");
    }
    assert_eq!(bot.jobs(user).await.len(), 8);
    bot.cleanup().await;
}

#[tokio::test]
async fn album_photos_delivered_out_of_order_come_out_in_message_order() {
    let bot = Bot::start("bot-album-order").await;
    let user = 508;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:anime", 10))
        .await;
    let photos: Vec<_> = (0..3)
        .map(|i| photo(bot.id(), user, &format!("ORD-{i}"), Some("grp-o")))
        .collect();
    for i in [2, 0, 1] {
        assert_eq!(bot.post(&photos[i]).await, 200);
    }
    assert_eq!(bot.post(&callback(bot.id(), user, "go", 12)).await, 200);
    let jobs = bot.jobs(user).await;
    assert_eq!(jobs[0].file_ids, vec!["ORD-0", "ORD-1", "ORD-2"]);
    bot.cleanup().await;
}

#[tokio::test]
async fn sqlite_down_is_503_then_the_redelivered_update_succeeds_once() {
    let bot = Bot::start("bot-sql-down").await;
    let user = 507;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:anime", 10))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-B", None)).await;
    let go = callback(bot.id(), user, "go", 11);
    assert_eq!(bot.post_via(&bot.broken_db(), &go).await, 503);
    assert!(bot.jobs(user).await.is_empty());
    assert_eq!(bot.post(&go).await, 200);
    assert_eq!(bot.post(&go).await, 200);
    assert_eq!(bot.jobs(user).await.len(), 1);
    assert_eq!(bot.stream_len().await, 1);
    assert!(
        bot.last_text().contains("Задание принято"),
        "{}",
        bot.last_text()
    );
    bot.cleanup().await;
}

#[tokio::test]
async fn redis_down_is_503_then_the_redelivered_update_succeeds_once() {
    let bot = Bot::start("bot-redis-down").await;
    let user = 508;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "custom", 10)).await;
    bot.post(&photo(bot.id(), user, "PHOTO-C", None)).await;
    let prompt = text(bot.id(), user, "make the sky purple");
    assert_eq!(bot.post_via(&bot.broken_redis(), &prompt).await, 503);
    assert_eq!(
        bot.balance(user).await,
        100,
        "the failed enqueue is refunded"
    );
    assert_eq!(bot.post(&prompt).await, 200);
    assert_eq!(bot.post(&prompt).await, 200);
    let queued: Vec<_> = bot
        .jobs(user)
        .await
        .into_iter()
        .filter(|j| j.status == qwen_core::contract::JobStatus::Queued)
        .collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].file_ids, vec!["PHOTO-C"]);
    assert_eq!(queued[0].prompt, "make the sky purple");
    assert_eq!(bot.stream_len().await, 1);
    assert_eq!(bot.balance(user).await, 90);
    bot.cleanup().await;
}

#[tokio::test]
async fn kv_down_is_503_then_the_redelivered_update_succeeds() {
    let bot = Bot::start("bot-kv-down").await;
    let user = 509;
    started(&bot, user).await;
    let cats = callback(bot.id(), user, "cats", 10);
    assert_eq!(bot.post_via(&bot.broken_kv(), &cats).await, 503);
    assert_eq!(bot.post(&cats).await, 200);
    assert_eq!(
        bot.state(user).await.expect("state")["state"]["kind"],
        "select_preset_category"
    );
}

#[tokio::test]
async fn broken_or_old_state_resets_to_the_main_menu_once() {
    let bot = Bot::start("bot-broken-state").await;
    let user = 510;
    started(&bot, user).await;
    for raw in [
        &b"\x00\xffgarbage"[..],
        br#"{"v":0,"state":{"kind":"main_menu"}}"#,
    ] {
        bot.set_raw_state(user, raw).await;
        assert_eq!(bot.post(&text(bot.id(), user, "hello")).await, 200);
        assert!(
            bot.texts().iter().any(|t| t.contains("Сессия устарела")),
            "{:?}",
            bot.texts()
        );
        assert_eq!(bot.state(user).await.expect("state")["v"], 1);
        bot.tg.clear_calls();
        assert_eq!(bot.post(&text(bot.id(), user, "hello")).await, 200);
        assert!(
            !bot.texts().iter().any(|t| t.contains("Сессия устарела")),
            "no error loop"
        );
    }
}

#[tokio::test]
async fn telegram_errors_never_fail_the_update() {
    use testkit::fakes::telegram::Failure;
    let bot = Bot::start("bot-tg-errors").await;
    let user = 511;
    started(&bot, user).await;
    bot.tg.fail_next(
        "sendMessage",
        1,
        Failure::TooManyRequests { retry_after: 3 },
    );
    // /start sends two messages: the greeting meets the 429, is waited out and sent again.
    assert_eq!(bot.post(&text(bot.id(), user, "/start")).await, 200);
    bot.tg.fail_next(
        "editMessageText",
        1,
        Failure::BadRequest("message to edit not found".into()),
    );
    assert_eq!(bot.post(&callback(bot.id(), user, "help", 10)).await, 200);
    assert!(
        bot.last_text().contains("Как это работает"),
        "edit failed → sent instead"
    );
    bot.tg.fail_next("sendMessage", 1, Failure::Blocked);
    assert_eq!(bot.post(&text(bot.id(), user, "/start")).await, 200);
    assert!(
        bot.user(user).await.expect("user").blocked_at.is_some(),
        "403 recorded on the user"
    );
    let answered = bot.tg.calls_of("answerCallbackQuery");
    assert_eq!(answered.len(), 1);
    let _ = buttons;
}

/// The successful calls of `method` for `chat`.
fn delivered(bot: &Bot, method: &str, chat: i64) -> Vec<testkit::fakes::telegram::Call> {
    bot.tg
        .calls_of(method)
        .into_iter()
        .filter(|c| c.status == 200 && c.chat_id() == Some(chat))
        .collect()
}

#[tokio::test]
async fn a_reply_under_flood_control_arrives_exactly_once() {
    let bot = Bot::start("bot-429-send").await;
    let (user, other) = (512, 514);
    started(&bot, user).await;
    started(&bot, other).await;
    bot.tg.clear_calls();
    bot.tg.flood_chat("sendMessage", user, 1);
    assert_eq!(bot.post(&text(bot.id(), user, "/help")).await, 200);
    let sent = delivered(&bot, "sendMessage", user);
    assert_eq!(sent.len(), 1, "{:?}", bot.tg.calls());
    assert!(
        sent[0]
            .param("text")
            .as_str()
            .unwrap_or("")
            .contains("Как это работает")
    );
    let refused = bot.tg.calls_of("sendMessage");
    assert!(refused.iter().any(|c| c.status == 429), "the flood was met");
    assert_eq!(bot.post(&text(bot.id(), other, "/help")).await, 200);
    assert_eq!(
        delivered(&bot, "sendMessage", other).len(),
        1,
        "other chats unaffected"
    );
}

#[tokio::test]
async fn an_edit_under_flood_control_arrives_exactly_once() {
    let bot = Bot::start("bot-429-edit").await;
    let user = 515;
    started(&bot, user).await;
    bot.tg.clear_calls();
    bot.tg.flood_chat("editMessageText", user, 1);
    assert_eq!(bot.post(&callback(bot.id(), user, "help", 10)).await, 200);
    let edits = delivered(&bot, "editMessageText", user);
    assert_eq!(edits.len(), 1, "{:?}", bot.tg.calls());
    assert!(
        edits[0]
            .param("text")
            .as_str()
            .unwrap_or("")
            .contains("Как это работает")
    );
    assert!(
        delivered(&bot, "sendMessage", user).is_empty(),
        "no second copy"
    );
    assert_eq!(bot.tg.calls_of("answerCallbackQuery").len(), 1);
}

#[tokio::test]
async fn a_wait_longer_than_the_budget_hands_the_reply_to_the_webhook_answer() {
    use testkit::fakes::telegram::Failure;
    let bot = Bot::start("bot-429").await;
    let user = 516;
    started(&bot, user).await;
    let long = bot::webhook::FLOOD_BUDGET_MS / 1000 + 5;
    bot.tg.fail_next(
        "sendMessage",
        1,
        Failure::TooManyRequests { retry_after: long },
    );
    bot.tg.clear_calls();
    let started_at = std::time::Instant::now();
    let resp = bot
        .env
        .call(&request(body(&text(bot.id(), user, "/help")), Some(SECRET)))
        .await;
    assert!(started_at.elapsed().as_secs() < 3, "no hopeless wait");
    assert_eq!(resp.status, 200);
    let reply: serde_json::Value = serde_json::from_slice(&resp.body).expect("json");
    assert_eq!(reply["method"], "sendMessage", "{reply}");
    assert_eq!(reply["chat_id"], user);
    let sent = bot.tg.calls_of("sendMessage");
    assert_eq!(sent.len(), 1, "refused once, not hammered: {sent:?}");
    assert_eq!(
        reply["text"],
        *sent[0].param("text"),
        "the refused reply is handed back"
    );
}

#[tokio::test]
async fn only_a_button_answer_rides_in_the_webhook_answer() {
    let bot = Bot::start("bot-answer-call").await;
    let user = 513;
    started(&bot, user).await;
    bot.tg.clear_calls();
    let call = |update: serde_json::Value| {
        let env = bot.env.clone();
        async move {
            let resp = env.call(&request(body(&update), Some(SECRET))).await;
            assert_eq!(resp.status, 200);
            serde_json::from_slice::<serde_json::Value>(&resp.body).expect("json")
        }
    };
    let reply = call(text(bot.id(), user, "/help")).await;
    assert!(
        reply.get("method").is_none(),
        "a message never rides: {reply}"
    );
    let sent = bot.tg.calls_of("sendMessage");
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .param("text")
            .as_str()
            .unwrap_or("")
            .contains("Как это работает")
    );
    bot.tg.clear_calls();
    let id = bot.id();
    let reply = call(callback(id, user, "help", 10)).await;
    assert_eq!(reply["method"], "answerCallbackQuery", "{reply}");
    assert_eq!(reply["callback_query_id"], format!("cbq-{id}"));
    let methods: Vec<String> = bot.tg.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        vec!["editMessageText"],
        "the edit went out, the answer rides"
    );
}

/// `update` moved into the group chat `group` (a message's or a pressed button's chat).
fn in_group(mut update: serde_json::Value, group: i64) -> serde_json::Value {
    let chat = json!({"id": group, "type": "supergroup", "title": "Friends"});
    if update.get("message").is_some() {
        update["message"]["chat"] = chat;
    } else {
        update["callback_query"]["message"]["chat"] = chat;
    }
    update
}

#[tokio::test]
async fn a_group_chat_gets_one_line_pointing_to_the_private_chat() {
    let bot = Bot::start_with("bot-group", |s| s.admin_ids = vec![611]).await;
    let (group, anna, boris, admin) = (-100_777, 610, 612, 611);
    started(&bot, anna).await;
    started(&bot, admin).await;
    let balance = bot.balance(anna).await;
    bot.tg.clear_calls();
    let updates = [
        in_group(photo(bot.id(), boris, "boris-photo", None), group),
        in_group(text(bot.id(), anna, "/start"), group),
        in_group(text(bot.id(), admin, "/stats"), group),
        in_group(text(bot.id(), admin, "/adjust 610 50 gift"), group),
        in_group(text(bot.id(), anna, "just chatting"), group),
    ];
    for u in &updates {
        assert_eq!(bot.post(u).await, 200);
    }
    let go = bot.id();
    assert_eq!(
        bot.post(&in_group(callback(go, anna, "go", 12), group))
            .await,
        200
    );
    let sent = bot.tg.calls_of("sendMessage");
    assert_eq!(sent.len(), 4, "one line per command or photo: {sent:?}");
    for c in &sent {
        assert_eq!(c.chat_id(), Some(group));
        assert!(
            c.param("text")
                .as_str()
                .unwrap_or("")
                .contains("личных сообщениях")
        );
    }
    let answered = bot.tg.calls_of("answerCallbackQuery");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].param("show_alert"), &json!(true));
    assert!(
        answered[0]
            .param("text")
            .as_str()
            .unwrap_or("")
            .contains("личных")
    );
    assert!(bot.tg.calls_of("editMessageText").is_empty());
    assert_eq!(bot.job_count(anna).await, 0, "nothing started");
    assert_eq!(
        bot.balance(anna).await,
        balance,
        "nothing charged or credited"
    );
    assert!(
        bot.user(boris).await.is_none(),
        "nobody registered from a group"
    );
    use qwen_core::ports::Sql;
    let sql = testkit::sql::SqliteSql::open(&bot.env.db);
    let rows = sql
        .execute("SELECT COUNT(*) FROM draft_images", &[])
        .await
        .expect("count");
    assert_eq!(qwen_core::db::count(&rows), Ok(0), "no draft from a group");
}
