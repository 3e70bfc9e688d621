//! Top-up through the bot: method → package → a "Pay" URL (YooKassa, fake) or a Stars
//! invoice (fake Bot API); pre-checkout answers; `successful_payment` credits once.

mod common;

use common::{Bot, buttons, callback, message, started};
use qwen_core::payments::stars::Refusal;
use serde_json::{Value, json};
use testkit::fakes::yookassa::Failure;
use testkit::sql::SqliteSql;

/// The user's payment ids, oldest first.
async fn payment_ids(bot: &Bot, user: i64) -> Vec<String> {
    let sql = SqliteSql::open(&bot.env.db);
    let stmt = "SELECT id FROM payments WHERE user_id = ?1 ORDER BY created_at, id";
    qwen_core::ports::Sql::execute(&sql, stmt, &[user.into()])
        .await
        .expect("payments")
        .iter()
        .map(|r| r.text(0).expect("column"))
        .collect()
}

/// Every URL button of a recorded call.
fn url_buttons(call: &testkit::fakes::telegram::Call) -> Vec<String> {
    call.params["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["url"].as_str().map(str::to_owned))
        .collect()
}

fn pre_checkout(id: i64, user: i64, payload: &str, amount: i64) -> Value {
    json!({"update_id": id, "pre_checkout_query": {
        "id": format!("pcq-{id}"),
        "from": {"id": user, "is_bot": false, "first_name": "Anna", "language_code": "ru"},
        "currency": "XTR", "total_amount": amount, "invoice_payload": payload}})
}

fn successful_payment(id: i64, user: i64, payload: &str, amount: i64, charge: &str) -> Value {
    message(
        id,
        user,
        "ru",
        json!({"successful_payment": {
            "currency": "XTR", "total_amount": amount, "invoice_payload": payload,
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}}),
    )
}

#[tokio::test]
async fn card_topup_shows_a_pay_url_button() {
    let bot = Bot::start("bot_pay_card").await;
    let user = 7101;
    started(&bot, user).await;
    assert_eq!(bot.post(&callback(bot.id(), user, "topup", 10)).await, 200);
    let methods = buttons(&bot.last());
    for m in ["paym:yookassa_card", "paym:yookassa_sbp", "paym:stars"] {
        assert!(methods.contains(&m.to_owned()), "{methods:?}");
    }
    assert!(!bot.last_text().contains("недоступ"), "{}", bot.last_text());
    assert_eq!(
        bot.post(&callback(bot.id(), user, "paym:yookassa_card", 10))
            .await,
        200
    );
    let packages = buttons(&bot.last());
    assert!(
        packages.contains(&"pkg:yookassa_card:300".to_owned()),
        "{packages:?}"
    );
    let press = callback(bot.id(), user, "pkg:yookassa_card:300", 10);
    assert_eq!(bot.post(&press).await, 200);
    let ids = payment_ids(&bot, user).await;
    assert_eq!(ids.len(), 1);
    let yk = bot.yk.payments();
    assert_eq!(yk.len(), 1);
    let url = yk[0]["confirmation"]["confirmation_url"]
        .as_str()
        .expect("confirmation url")
        .to_owned();
    assert_eq!(url_buttons(&bot.last()), vec![url]);
    assert!(bot.last_text().contains("300"), "{}", bot.last_text());
    // A redelivered update is a duplicate: no second payment.
    assert_eq!(bot.post(&press).await, 200);
    assert_eq!(payment_ids(&bot, user).await.len(), 1);
    assert_eq!(bot.yk.payments().len(), 1);
    bot.cleanup().await;
}

#[tokio::test]
async fn yookassa_refusal_is_a_polite_message_not_an_error() {
    let bot = Bot::start("bot_pay_refused").await;
    let user = 7102;
    started(&bot, user).await;
    bot.yk.fail_next("/v3/payments", 1, Failure::Unauthorized);
    let press = callback(bot.id(), user, "pkg:yookassa_sbp:100", 10);
    assert_eq!(bot.post(&press).await, 200);
    assert!(
        bot.last_text().contains("не получилось начать оплату"),
        "{}",
        bot.last_text()
    );
    assert!(url_buttons(&bot.last()).is_empty());
    bot.cleanup().await;
}

#[tokio::test]
async fn stars_sends_an_invoice_with_the_payment_id() {
    let bot = Bot::start("bot_pay_stars").await;
    let user = 7103;
    started(&bot, user).await;
    assert_eq!(
        bot.post(&callback(bot.id(), user, "paym:stars", 10)).await,
        200
    );
    assert!(buttons(&bot.last()).contains(&"pkg:stars:100".to_owned()));
    assert_eq!(
        bot.post(&callback(bot.id(), user, "pkg:stars:100", 10))
            .await,
        200
    );
    let ids = payment_ids(&bot, user).await;
    assert_eq!(ids.len(), 1);
    let invoices = bot.tg.calls_of("sendInvoice");
    assert_eq!(invoices.len(), 1);
    let inv = &invoices[0];
    assert_eq!(inv.param("payload").as_str(), Some(ids[0].as_str()));
    assert_eq!(inv.param("currency").as_str(), Some("XTR"));
    assert_eq!(inv.chat_id(), Some(user));
    assert!(bot.yk.requests().is_empty(), "Stars never call YooKassa");
    bot.cleanup().await;
}

#[tokio::test]
async fn pre_checkout_is_answered_ok_or_refused_with_a_reason() {
    let bot = Bot::start("bot_pay_precheckout").await;
    let user = 7104;
    started(&bot, user).await;
    assert_eq!(
        bot.post(&pre_checkout(bot.id(), user, "nope", 100)).await,
        200
    );
    let answers = bot.tg.calls_of("answerPreCheckoutQuery");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].param("ok").as_bool(), Some(false));
    assert_eq!(
        answers[0].param("error_message").as_str(),
        Some(
            Refusal::Unknown
                .message(qwen_core::contract::Language::Ru)
                .as_str()
        )
    );

    bot.post(&callback(bot.id(), user, "pkg:stars:100", 10))
        .await;
    let id = payment_ids(&bot, user).await.remove(0);
    assert_eq!(bot.post(&pre_checkout(bot.id(), user, &id, 100)).await, 200);
    let answers = bot.tg.calls_of("answerPreCheckoutQuery");
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[1].param("ok").as_bool(), Some(true));
    bot.cleanup().await;
}

#[tokio::test]
async fn successful_payment_twice_credits_once() {
    let bot = Bot::start("bot_pay_success").await;
    let user = 7105;
    started(&bot, user).await;
    let before = bot.balance(user).await;
    bot.post(&callback(bot.id(), user, "pkg:stars:100", 10))
        .await;
    let id = payment_ids(&bot, user).await.remove(0);
    bot.tg.clear_calls();
    for _ in 0..2 {
        let update = successful_payment(bot.id(), user, &id, 100, "stxCHARGE");
        assert_eq!(bot.post(&update).await, 200);
    }
    let credited = bot.balance(user).await - before;
    assert!(credited >= 100, "credited {credited}");
    let topped: Vec<_> = bot
        .texts()
        .into_iter()
        .filter(|t| t.contains("Баланс пополнен"))
        .collect();
    assert_eq!(topped.len(), 1, "{:?}", bot.texts());
    assert_eq!(bot.texts().len(), 1, "the bot adds no message of its own");
    assert_eq!(bot.balance(user).await - before, credited);
    bot.cleanup().await;
}

#[tokio::test]
async fn yookassa_unreachable_asks_for_redelivery_then_reuses_the_payment() {
    let bot = Bot::start("bot_pay_transient").await;
    let user = 7106;
    started(&bot, user).await;
    bot.yk.set_down(true);
    let press = callback(bot.id(), user, "pkg:yookassa_card:100", 10);
    assert_eq!(bot.post(&press).await, 503);
    bot.yk.set_down(false);
    assert_eq!(bot.post(&press).await, 200);
    assert_eq!(
        payment_ids(&bot, user).await.len(),
        1,
        "same payment reused"
    );
    assert_eq!(url_buttons(&bot.last()).len(), 1);
    bot.cleanup().await;
}

/// The chat and message recorded on payment `id`.
async fn pay_message_of(bot: &Bot, id: &str) -> (Option<i64>, Option<i64>) {
    let sql = SqliteSql::open(&bot.env.db);
    let stmt = "SELECT chat_id, message_id FROM payments WHERE id = ?1";
    let rows = qwen_core::ports::Sql::execute(&sql, stmt, &[id.into()])
        .await
        .expect("payment");
    let row = rows.first().expect("one payment");
    (
        row.opt_int(0).expect("chat"),
        row.opt_int(1).expect("message"),
    )
}

#[tokio::test]
async fn the_pay_message_is_recorded_on_the_payment() {
    let bot = Bot::start("bot_pay_message").await;
    let user = 7111;
    started(&bot, user).await;
    let press = callback(bot.id(), user, "pkg:yookassa_card:300", 10);
    assert_eq!(bot.post(&press).await, 200);
    let id = payment_ids(&bot, user).await.remove(0);
    let (chat, message) = pay_message_of(&bot, &id).await;
    assert_eq!(chat, Some(user));
    let message = message.expect("the Pay message is recorded");
    let text = bot.tg.message_text(user, message).unwrap_or_default();
    assert!(
        text.contains("300"),
        "the recorded message is the Pay message: {text}"
    );
    bot.cleanup().await;
}

#[tokio::test]
async fn the_try_again_button_opens_the_top_up_screen() {
    assert_eq!(
        qwen_core::payments::notify::TOPUP_BUTTON,
        bot::screens::topup::screen().data()
    );
    let bot = Bot::start("bot_pay_try_again").await;
    let user = 7112;
    started(&bot, user).await;
    let press = callback(
        bot.id(),
        user,
        qwen_core::payments::notify::TOPUP_BUTTON,
        10,
    );
    assert_eq!(bot.post(&press).await, 200);
    assert!(
        buttons(&bot.last()).contains(&"paym:stars".to_owned()),
        "{:?}",
        buttons(&bot.last())
    );
    bot.cleanup().await;
}

#[tokio::test]
async fn a_second_pre_checkout_of_one_invoice_is_refused_in_the_users_language() {
    let bot = Bot::start("bot_pay_second_checkout").await;
    let user = 7113;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "pkg:stars:100", 10))
        .await;
    let id = payment_ids(&bot, user).await.remove(0);
    for _ in 0..2 {
        assert_eq!(bot.post(&pre_checkout(bot.id(), user, &id, 100)).await, 200);
    }
    let answers = bot.tg.calls_of("answerPreCheckoutQuery");
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].param("ok").as_bool(), Some(true));
    assert_eq!(answers[1].param("ok").as_bool(), Some(false));
    assert_eq!(
        answers[1].param("error_message").as_str(),
        Some(
            Refusal::AlreadyCheckingOut
                .message(qwen_core::contract::Language::Ru)
                .as_str()
        )
    );
    bot.cleanup().await;
}

#[tokio::test]
async fn the_stars_invoice_is_in_the_users_language() {
    let bot = Bot::start("bot_pay_invoice_lang").await;
    let user = 7114;
    started(&bot, user).await;
    bot.post(&callback(bot.id(), user, "pkg:stars:100", 10))
        .await;
    let invoices = bot.tg.calls_of("sendInvoice");
    assert_eq!(invoices.len(), 1);
    let title = invoices[0].param("title").as_str().unwrap_or("");
    assert!(title.contains("кредитов"), "{title}");
    bot.cleanup().await;
}

#[tokio::test]
async fn a_declined_card_payment_closes_the_pay_message_and_offers_a_way_back() {
    let bot = Bot::start("bot_pay_declined").await;
    let user = 7115;
    started(&bot, user).await;
    let press = callback(bot.id(), user, "pkg:yookassa_card:300", 10);
    assert_eq!(bot.post(&press).await, 200);
    let id = payment_ids(&bot, user).await.remove(0);
    let (_, message) = pay_message_of(&bot, &id).await;
    let message = message.expect("the Pay message is recorded");
    let provider_id = bot.yk.payments()[0]["id"].as_str().unwrap_or("").to_owned();
    bot.yk
        .cancel(&provider_id, "payment_network", "3d_secure_failed");
    let (sql, http) = (
        SqliteSql::open(&bot.env.db),
        testkit::payments::ReqwestHttp::new(),
    );
    let deps = qwen_core::payments::Deps {
        sql: &sql,
        http: &http,
        clock: bot.env.clock.as_ref(),
        settings: &bot.env.settings,
        pay: &bot.env.pay,
    };
    let note: qwen_core::payments::webhook::Notification =
        serde_json::from_value(bot.yk.notification("payment.canceled", &provider_id))
            .expect("notification");
    let outcome = qwen_core::payments::webhook::process(&deps, &note).await;
    assert_eq!(outcome.expect("processed"), "canceled");
    let closed = bot.tg.message_text(user, message).unwrap_or_default();
    assert!(closed.contains("не состоялся"), "{closed}");
    let told = bot.last();
    assert!(
        bot.last_text().contains("3-D Secure"),
        "{}",
        bot.last_text()
    );
    assert_eq!(buttons(&told), vec!["topup".to_owned()]);
    bot.cleanup().await;
}

/// `(text, callback data)` of every callback button of a recorded call.
fn labelled_buttons(call: &testkit::fakes::telegram::Call) -> Vec<(String, String)> {
    call.inline_buttons()
        .iter()
        .filter_map(|b| {
            let data = b["callback_data"].as_str()?;
            Some((b["text"].as_str().unwrap_or("").to_owned(), data.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn the_top_up_screen_offers_exactly_the_registered_methods_in_order() {
    use qwen_core::payments::METHODS;
    use qwen_texts::{Lang, t};
    let bot = Bot::start("bot_pay_registry").await;
    let user = 7121;
    started(&bot, user).await;
    assert_eq!(bot.post(&callback(bot.id(), user, "topup", 10)).await, 200);
    let offered = labelled_buttons(&bot.last());
    let registered: Vec<(String, String)> = METHODS
        .iter()
        .map(|m| {
            let data = bot::screens::topup::method(m.id().as_str()).data();
            (t(Lang::Ru, m.labels().button), data)
        })
        .collect();
    assert_eq!(offered[..offered.len().min(METHODS.len())], registered[..]);
    assert!(
        offered[METHODS.len()..]
            .iter()
            .all(|(_, d)| !d.starts_with("paym:")),
        "{offered:?}"
    );
    for (i, m) in METHODS.iter().enumerate() {
        let press = format!("paym:{}", m.id());
        let update = 20 + i as i64;
        assert_eq!(bot.post(&callback(update, user, &press, 10)).await, 200);
        let text = bot.last_text();
        assert!(
            text.starts_with(t(Lang::Ru, m.labels().packages).as_str()),
            "{press}: {text}"
        );
    }
    bot.cleanup().await;
}
