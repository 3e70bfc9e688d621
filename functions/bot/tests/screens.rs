//! Every screen and command, both languages, through the real webhook handler.

mod common;

use common::{Bot, buttons, callback, document, message, photo, started, text};
use serde_json::json;

#[tokio::test]
async fn start_registers_once_with_the_bonus_and_shows_the_menu() {
    let bot = Bot::start("bot-start").await;
    started(&bot, 601).await;
    let texts = bot.texts();
    assert!(
        texts[0].contains("Привет, Anna") && texts[0].contains("100"),
        "{texts:?}"
    );
    let menu = bot.last();
    assert_eq!(
        buttons(&menu),
        vec!["cats", "custom", "profile", "topup", "lang", "help"]
    );
    started(&bot, 601).await;
    assert!(bot.texts().iter().any(|t| t.contains("С возвращением")));
    assert_eq!(bot.balance(601).await, 100, "bonus granted once");
}

#[tokio::test]
async fn english_users_get_english_and_lang_switches() {
    let bot = Bot::start("bot-lang").await;
    let user = 602;
    bot.post(&message(
        bot.id(),
        user,
        "en-US",
        json!({"text": "/start", "entities": [{"type":"bot_command","offset":0,"length":6}]}),
    ))
    .await;
    assert!(
        bot.texts()[0].starts_with("👋 Hi, Anna"),
        "{:?}",
        bot.texts()
    );
    bot.post(&text(bot.id(), user, "/lang")).await;
    assert_eq!(
        buttons(&bot.last())[..2],
        ["lang:ru".to_owned(), "lang:en".to_owned()]
    );
    bot.post(&callback(bot.id(), user, "lang:ru", 20)).await;
    assert!(
        bot.last_text().starts_with("Главное меню"),
        "{}",
        bot.last_text()
    );
    assert_eq!(
        bot.user(user).await.expect("user").lang.as_deref(),
        Some("ru")
    );
    bot.post(&callback(bot.id(), user, "lang:en", 20)).await;
    assert!(bot.last_text().starts_with("Main menu"));
    assert_eq!(bot.tg.calls_of("answerCallbackQuery").len(), 2);
}

#[tokio::test]
async fn every_command() {
    let bot = Bot::start("bot-commands").await;
    let user = 603;
    started(&bot, user).await;
    bot.post(&text(bot.id(), user, "/menu")).await;
    assert!(bot.last_text().starts_with("Главное меню"));
    bot.post(&text(bot.id(), user, "/help")).await;
    assert!(bot.last_text().contains("/cancel"));
    assert!(buttons(&bot.last()).contains(&"menu".to_owned()));
    bot.post(&text(bot.id(), user, "/balance")).await;
    assert!(bot.last_text().contains("100"));
    bot.post(&callback(bot.id(), user, "custom", 5)).await;
    bot.post(&text(bot.id(), user, "/cancel")).await;
    assert!(bot.texts().iter().any(|t| t == "Действие отменено."));
    assert_eq!(
        bot.state(user).await.expect("state")["state"]["kind"],
        "main_menu"
    );
    bot.post(&text(bot.id(), user, "/frobnicate")).await;
    assert!(bot.last_text().contains("Неизвестная команда"));
    bot.post(&text(bot.id(), user, "/stats")).await;
    assert!(
        bot.last_text().contains("Неизвестная команда"),
        "not for non-admins"
    );
    bot.post(&text(bot.id(), user, "/adjust 603 1000 gift"))
        .await;
    assert!(bot.last_text().contains("Неизвестная команда"));
    assert_eq!(bot.balance(user).await, 100);
}

#[tokio::test]
async fn preset_flow_to_a_queued_job_and_cancel() {
    let bot = Bot::start("bot-preset").await;
    let user = 604;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "cats", 30)).await;
    let cats = bot.last();
    assert_eq!(cats.method, "editMessageText");
    assert!(
        buttons(&cats).contains(&"cat:style:0".to_owned()),
        "{:?}",
        buttons(&cats)
    );
    assert!(buttons(&cats).ends_with(&["menu".to_owned(), "menu".to_owned()]));
    bot.post(&callback(bot.id(), user, "cat:style:0", 30)).await;
    assert!(bot.last_text().contains("10 кр."), "{}", bot.last_text());
    assert!(buttons(&bot.last()).contains(&"preset:anime".to_owned()));
    assert!(
        buttons(&bot.last()).contains(&"cats".to_owned()),
        "Back goes to categories"
    );
    bot.post(&callback(bot.id(), user, "preset:anime", 30))
        .await;
    assert!(bot.last_text().contains("Отправьте фото"));
    assert_eq!(buttons(&bot.last()), vec!["cat:style:0", "menu"]);
    bot.post(&photo(bot.id(), user, "PHOTO-1", None)).await;
    assert!(
        bot.last_text().contains("Фото 1 из 3"),
        "{}",
        bot.last_text()
    );
    assert_eq!(buttons(&bot.last())[0], "go");
    bot.post(&callback(bot.id(), user, "go", 31)).await;
    let job = bot.jobs(user).await.pop().expect("job");
    assert_eq!(
        (job.preset_id.as_deref(), job.file_ids.clone()),
        (Some("anime"), vec!["PHOTO-1".to_owned()])
    );
    let reply = bot.last_text();
    assert!(
        reply.contains(job.id.as_str())
            && reply.contains("баланс: 90")
            && reply.contains("очереди: 0"),
        "{reply}"
    );
    assert_eq!(buttons(&bot.last())[0], format!("cancel:{}", job.id));
    assert_eq!(bot.stream_len().await, 1);
    bot.post(&callback(bot.id(), user, &format!("cancel:{}", job.id), 31))
        .await;
    assert!(bot.last_text().contains("отменено"), "{}", bot.last_text());
    assert_eq!(bot.balance(user).await, 100);
    bot.post(&callback(bot.id(), user, &format!("cancel:{}", job.id), 31))
        .await;
    let answers = bot.tg.calls_of("answerCallbackQuery");
    assert_eq!(
        answers.last().expect("answer").param("show_alert"),
        true,
        "second cancel is refused"
    );
    assert_eq!(answers.len(), 6, "every button press answered");
    bot.cleanup().await;
}

#[tokio::test]
async fn custom_prompt_lengths() {
    let bot = Bot::start("bot-prompt").await;
    let user = 605;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "custom", 40)).await;
    assert!(bot.last_text().contains("10 кр."));
    bot.post(&text(bot.id(), user, "too early")).await;
    assert_eq!(bot.last_text(), "Сначала отправьте фото.");
    bot.post(&photo(bot.id(), user, "PHOTO-P", None)).await;
    assert!(bot.last_text().contains("Напишите, что изменить"));
    for bad in [String::new(), "     ".into(), "a".repeat(501)] {
        bot.post(&text(bot.id(), user, &bad)).await;
        let want = match bad.len() {
            501 => "Промпт длиннее 500 символов: в вашем 501. Сократите его и отправьте снова.",
            _ => "Промпт должен быть от 1 до 500 символов",
        };
        assert_eq!(bot.last_text(), want, "{} chars", bad.len());
        assert_eq!(
            bot.state(user).await.expect("state")["state"]["kind"],
            "awaiting_custom_prompt"
        );
    }
    bot.post(&text(bot.id(), user, "b")).await;
    assert!(
        bot.last_text().contains("Задание принято"),
        "{}",
        bot.last_text()
    );
    bot.post(&callback(bot.id(), user, "custom", 41)).await;
    bot.post(&photo(bot.id(), user, "PHOTO-Q", None)).await;
    let long = "ж".repeat(500);
    bot.post(&text(bot.id(), user, &long)).await;
    let prompts: Vec<String> = bot.jobs(user).await.into_iter().map(|j| j.prompt).collect();
    assert_eq!(prompts, vec![long, "b".to_owned()]);
    bot.cleanup().await;
}

#[tokio::test]
async fn documents_and_other_message_kinds() {
    let bot = Bot::start("bot-docs").await;
    let user = 606;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:smile", 50))
        .await;
    bot.post(&document(bot.id(), user, "DOC-PDF", "application/pdf"))
        .await;
    assert!(bot.last_text().contains("не изображение"));
    bot.post(&document(bot.id(), user, "DOC-PNG", "image/png"))
        .await;
    assert!(bot.last_text().contains("Фото 1 из 3"));
    bot.post(&message(bot.id(), user, "ru", json!({"sticker": {"file_id": "st", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}}))).await;
    assert!(bot.last_text().contains("Я понимаю фото"));
    bot.post(&message(
        bot.id(),
        user,
        "ru",
        json!({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}}),
    ))
    .await;
    assert!(bot.last_text().contains("Я понимаю фото"));
    let before = bot.tg.calls().len();
    let edited = json!({"update_id": bot.id(), "edited_message": {"message_id": 3, "date": 1, "edit_date": 2,
        "chat": {"id": user, "type": "private"}, "from": {"id": user, "is_bot": false, "first_name": "Anna"}, "text": "fixed"}});
    assert_eq!(bot.post(&edited).await, 200);
    assert_eq!(
        bot.post(&json!({"update_id": bot.id(), "poll": {"id": "1"}}))
            .await,
        200
    );
    assert_eq!(bot.tg.calls().len(), before, "ignored silently");
    bot.post(&photo(bot.id(), 0, "x", None)).await;
}

#[tokio::test]
async fn four_images_the_fourth_is_refused() {
    let bot = Bot::start("bot-four").await;
    let user = 607;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:anime", 60))
        .await;
    bot.tg.clear_calls();
    for i in 0..4 {
        bot.post(&photo(bot.id(), user, &format!("ALB-{i}"), Some("album-9")))
            .await;
    }
    let texts = bot.texts();
    assert_eq!(
        texts.len(),
        2,
        "one reply for the album, one refusal: {texts:?}"
    );
    assert!(texts[0].contains("Альбом получен"));
    assert!(texts[1].contains("не больше 3 фото"));
    bot.post(&callback(bot.id(), user, "go", 61)).await;
    let job = bot.jobs(user).await.pop().expect("job");
    assert_eq!(job.file_ids, vec!["ALB-0", "ALB-1", "ALB-2"]);
    bot.cleanup().await;
}

#[tokio::test]
async fn too_little_balance_shows_the_shortfall_and_top_up() {
    let bot = Bot::start_with("bot-402", |s| s.initial_balance = 4).await;
    let user = 608;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:anime", 70))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-L", None)).await;
    bot.post(&callback(bot.id(), user, "go", 71)).await;
    let text = bot.last_text();
    assert!(
        text.contains("нужно 10") && text.contains("Не хватает 6"),
        "{text}"
    );
    assert_eq!(buttons(&bot.last())[0], "topup");
    assert!(bot.jobs(user).await.is_empty());
    assert_eq!(
        bot.state(user).await.expect("state")["state"]["kind"],
        "awaiting_image_for_preset"
    );
    bot.post(&callback(bot.id(), user, "topup", 71)).await;
    assert!(bot.last_text().contains("Выберите способ оплаты"));
    assert!(buttons(&bot.last()).contains(&"paym:stars".to_owned()));
    bot.post(&callback(bot.id(), user, "amount:500", 71)).await;
    let answer = bot
        .tg
        .calls_of("answerCallbackQuery")
        .pop()
        .expect("answer");
    assert!(!answer.param("text").as_str().unwrap_or("").is_empty());
    assert_eq!(
        bot.balance(user).await,
        4,
        "an old amount button credits nothing"
    );
}

#[tokio::test]
async fn profile_shows_balance_ledger_and_jobs() {
    let bot = Bot::start("bot-profile").await;
    let user = 609;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "preset:smile", 80))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-R", None)).await;
    bot.post(&callback(bot.id(), user, "go", 81)).await;
    bot.post(&callback(bot.id(), user, "profile", 82)).await;
    let text = bot.last_text();
    assert!(
        text.contains("Баланс: 90")
            && text.contains("бонус за регистрацию")
            && text.contains("в очереди"),
        "{text}"
    );
    assert_eq!(buttons(&bot.last()), vec!["topup", "menu", "menu"]);
    bot.post(&callback(bot.id(), user, "menu", 82)).await;
    assert!(bot.last_text().starts_with("Главное меню"));
    bot.cleanup().await;
}

#[tokio::test]
async fn presets_paginate() {
    let bot = Bot::start("bot-pages").await;
    let user = 610;
    started(&bot, user).await;
    let sql = testkit::sql::SqliteSql::open(&bot.env.db);
    let base = qwen_core::presets::get(&sql, "anime").await.expect("anime");
    for i in 0..5 {
        let p = qwen_core::presets::Preset {
            id: format!("extra_{i}"),
            sort: 100 + i,
            ..base.clone()
        };
        qwen_core::presets::create(&sql, &p, 1)
            .await
            .expect("create");
    }
    bot.post(&callback(bot.id(), user, "cat:style:0", 90)).await;
    assert!(
        bot.last_text().contains("стр. 1 из 2"),
        "{}",
        bot.last_text()
    );
    assert!(buttons(&bot.last()).contains(&"cat:style:1".to_owned()));
    bot.post(&callback(bot.id(), user, "cat:style:1", 90)).await;
    assert!(bot.last_text().contains("стр. 2 из 2"));
    assert!(buttons(&bot.last()).contains(&"cat:style:0".to_owned()));
}

#[tokio::test]
async fn admin_stats_and_adjust() {
    let bot = Bot::start_with("bot-admin", |s| s.admin_ids = vec![700]).await;
    started(&bot, 700).await;
    started(&bot, 701).await;
    bot.post(&text(bot.id(), 700, "/stats")).await;
    let stats = bot.last_text();
    assert!(stats.contains("Пользователей: 2"), "{stats}");
    bot.post(&text(bot.id(), 700, "/adjust 701 -30 duplicate signup"))
        .await;
    assert!(bot.last_text().contains("теперь 70"), "{}", bot.last_text());
    assert_eq!(bot.balance(701).await, 70);
    bot.post(&text(bot.id(), 700, "/adjust 701 -500 too much"))
        .await;
    assert!(
        bot.last_text().contains("Недостаточно"),
        "{}",
        bot.last_text()
    );
    bot.post(&text(bot.id(), 700, "/adjust 999 5 nobody")).await;
    assert_eq!(bot.last_text(), "Пользователь не найден.");
    bot.post(&text(bot.id(), 700, "/adjust 701 five")).await;
    assert!(bot.last_text().starts_with("Использование"));
    assert_eq!(bot.balance(701).await, 70);
}

#[tokio::test]
async fn blocking_the_bot_is_recorded() {
    let bot = Bot::start("bot-blocked").await;
    let user = 611;
    started(&bot, user).await;
    let member = |status: &str| json!({"status": status, "user": {"id": 1, "is_bot": true, "first_name": "Qwen"}});
    let update = json!({"update_id": bot.id(), "my_chat_member": {
        "chat": {"id": user, "type": "private", "first_name": "Anna"},
        "from": {"id": user, "is_bot": false, "first_name": "Anna"}, "date": 1_767_000_000,
        "old_chat_member": member("member"), "new_chat_member": member("kicked")}});
    let before = bot.tg.calls().len();
    assert_eq!(bot.post(&update).await, 200);
    assert!(bot.user(user).await.expect("user").blocked_at.is_some());
    assert_eq!(bot.tg.calls().len(), before);
    let mut unblock = update.clone();
    unblock["update_id"] = json!(bot.id());
    unblock["my_chat_member"]["old_chat_member"] = member("kicked");
    unblock["my_chat_member"]["new_chat_member"] = member("member");
    assert_eq!(bot.post(&unblock).await, 200);
    assert!(
        bot.user(user).await.expect("user").blocked_at.is_none(),
        "unblocking is recorded"
    );
    assert_eq!(bot.tg.calls().len(), before);
}

/// The labels of every button of a recorded call.
fn labels(call: &testkit::fakes::telegram::Call) -> Vec<String> {
    call.inline_buttons()
        .iter()
        .filter_map(|b| b["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn start_and_the_job_reply_quote_the_wait_from_the_live_hosts() {
    let bot = Bot::start("bot-quote").await;
    let user = 620;
    started(&bot, user).await;
    // No host: the queue is paused, and the Start button says so instead of a number.
    bot.post(&callback(bot.id(), user, "preset:smile", 90))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-Q1", None)).await;
    let start = labels(&bot.last());
    assert!(
        start
            .iter()
            .any(|l| l.contains("10 кр.") && l.contains("очередь на паузе")),
        "{start:?}"
    );
    bot.post(&callback(bot.id(), user, "go", 91)).await;
    assert!(
        bot.last_text().contains("⏸ Очередь на паузе"),
        "{}",
        bot.last_text()
    );

    // One live host at 20 s a job: one job ahead (the first), so ≈ 40 s for the next.
    let sql = testkit::sql::SqliteSql::open(&bot.env.db);
    let report = qwen_core::contract::HostHeartbeat {
        v: 1,
        host: "gpu-a".into(),
        version: "0.1.0".into(),
        workflow: "qwen_edit_2511".into(),
        comfy_up: true,
        current_job: None,
        jobs_done: 3,
        run_ms_mean: Some(20_000),
        run_ms_p90: Some(25_000),
        busy_ratio: 0.5,
        at: 0,
    };
    let now = qwen_core::ports::Clock::now_ms(&testkit::clock::SystemClock);
    qwen_core::fleet::record(&sql, &report, now)
        .await
        .expect("report");
    bot.post(&callback(bot.id(), user, "preset:smile", 92))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-Q2", None)).await;
    let start = labels(&bot.last());
    assert!(start.iter().any(|l| l.contains("≈ 40 с")), "{start:?}");
    bot.post(&callback(bot.id(), user, "go", 93)).await;
    let reply = bot.last_text();
    assert!(
        reply.contains("Перед вами в очереди: 1") && reply.contains("⏱ Ожидание: ≈ 40 с."),
        "{reply}"
    );
    bot.cleanup().await;
}

/// Action buttons the crawl does not press (they start a job, a payment or change the
/// language); their own tests cover them.
const NOT_PRESSED: &[&str] = &["go", "cancel", "pkg", "lang:ru", "lang:en"];

/// Buttons only a flow shows (a photo must be sent first, a job must exist):
/// `preset_flow_to_a_queued_job_and_cancel` reaches them.
const FLOW_ONLY: &[&str] = &["go", "cancel"];

/// Presses every button reachable from the main menu (breadth first) as a user of `lang`;
/// returns the prefixes of every button seen. Every screen must speak `lang` with its keys
/// found in the catalog (a missing key shows as the bare key) and every button must be a
/// registered route.
async fn crawl(bot: &Bot, user: i64, lang: &str) -> std::collections::BTreeSet<String> {
    let start =
        json!({"text": "/start", "entities": [{"type":"bot_command","offset":0,"length":6}]});
    bot.post(&message(bot.id(), user, lang, start)).await;
    let (mut seen, mut queue) = (std::collections::BTreeSet::new(), vec!["menu".to_owned()]);
    let mut prefixes = std::collections::BTreeSet::new();
    while let Some(data) = queue.pop() {
        if !seen.insert(data.clone()) {
            continue;
        }
        bot.post(&callback(bot.id(), user, &data, 50)).await;
        let shown = bot.last();
        let text = bot.last_text();
        assert!(!is_bare_key(&text), "{lang} {data}: missing text {text:?}");
        for b in shown.inline_buttons() {
            let label = b["text"].as_str().unwrap_or("");
            assert!(
                !is_bare_key(label),
                "{lang} {data}: missing label {label:?}"
            );
            let Some(next) = b["callback_data"].as_str() else {
                continue;
            };
            let parsed = bot::screens::parse_button(next);
            assert_ne!(
                parsed,
                bot::callback::Button::unknown(),
                "{data} shows {next}"
            );
            prefixes.insert(parsed.prefix.to_owned());
            if !NOT_PRESSED.contains(&parsed.prefix) && !NOT_PRESSED.contains(&next) {
                queue.push(next.to_owned());
            }
        }
    }
    prefixes
}

/// A catalog key shown as such: what the catalog gives for a key it lacks.
fn is_bare_key(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[tokio::test]
async fn every_registered_screen_is_reachable_and_speaks_both_languages() {
    let bot = Bot::start("bot-crawl").await;
    for (user, lang) in [(620, "ru"), (621, "en")] {
        let reached = crawl(&bot, user, lang).await;
        let state = bot::state::DialogState::MainMenu;
        for r in bot::screens::routes() {
            let args = vec!["x".to_owned(); r.arity()];
            let is_button = r.press(&state, &args).is_some();
            let flow_only = FLOW_ONLY.contains(&r.prefix());
            assert!(
                !is_button || flow_only || reached.contains(r.prefix()),
                "{lang}: no screen links to {}",
                r.prefix()
            );
        }
    }
    bot.cleanup().await;
}

#[tokio::test]
async fn admins_see_their_price_on_preset_screens() {
    let user = 622;
    let bot = Bot::start_with("bot-admin-price", |s| s.admin_ids = vec![user]).await;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "cat:style:0", 30)).await;
    let list = bot.last_text();
    assert!(list.contains("0 кр.") && !list.contains("10 кр."), "{list}");
    bot.post(&callback(bot.id(), user, "preset:anime", 30))
        .await;
    let chosen = bot.last_text();
    assert!(
        chosen.contains("— 0 кр.") && !chosen.contains("10 кр."),
        "{chosen}"
    );
    bot.post(&photo(bot.id(), user, "PHOTO-A", None)).await;
    let start = shown_label(&bot, "go");
    assert!(start.contains("(0 кр."), "{start}");
    bot.post(&callback(bot.id(), user, "custom", 31)).await;
    assert!(bot.last_text().contains("— 0 кр."), "{}", bot.last_text());
    bot.cleanup().await;
}

/// The label of the last shown button with `data`.
fn shown_label(bot: &Bot, data: &str) -> String {
    let buttons = bot.last().inline_buttons();
    let b = buttons.iter().find(|b| b["callback_data"] == data);
    b.and_then(|b| b["text"].as_str()).unwrap_or("").to_owned()
}

#[tokio::test]
async fn figures_say_what_they_mean() {
    let bot = Bot::start("bot-figures").await;
    let user = 623;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "cat:style:0", 30)).await;
    let list = bot.last_text();
    assert!(!list.contains("стр."), "one page says no page: {list}");
    bot.post(&text(bot.id(), user, "/balance")).await;
    assert!(
        bot.last_text()
            .contains("Правок на балансе: ≈ 10 (по 10 кр.)"),
        "{}",
        bot.last_text()
    );
    bot.post(&callback(bot.id(), user, "paym:yookassa_card", 32))
        .await;
    assert!(
        bot.last_text().contains("Одна правка — 10 кр."),
        "{}",
        bot.last_text()
    );
    let shown = bot.last().inline_buttons();
    let packages: Vec<(i64, String)> = shown
        .iter()
        .filter_map(|b| {
            let data = b["callback_data"].as_str()?;
            let amount = data.strip_prefix("pkg:yookassa_card:")?.parse().ok()?;
            Some((amount, b["text"].as_str()?.to_owned()))
        })
        .collect();
    assert!(!packages.is_empty(), "{shown:?}");
    for (amount, label) in packages {
        let bonus = amount / 10;
        assert_eq!(label, format!("{amount} ₽ → {amount} + {bonus} кр."));
    }
    bot.post(&callback(bot.id(), user, "preset:anime", 33))
        .await;
    bot.post(&photo(bot.id(), user, "PHOTO-F", None)).await;
    bot.post(&callback(bot.id(), user, "go", 34)).await;
    let job = bot.jobs(user).await.pop().expect("job");
    bot.post(&callback(bot.id(), user, &format!("cancel:{}", job.id), 35))
        .await;
    assert!(
        bot.last_text().contains("Баланс: 100 кр."),
        "the refund says the new balance: {}",
        bot.last_text()
    );
    bot.cleanup().await;
}

#[tokio::test]
async fn free_edits_are_not_counted() {
    let user = 624;
    let bot = Bot::start_with("bot-free-figures", |s| s.admin_ids = vec![user]).await;
    started(&bot, user).await;
    bot.post(&text(bot.id(), user, "/balance")).await;
    assert!(!bot.last_text().contains("Правок"), "{}", bot.last_text());
    bot.post(&callback(bot.id(), user, "paym:stars", 32)).await;
    assert!(!bot.last_text().contains("правка"), "{}", bot.last_text());
    bot.cleanup().await;
}
