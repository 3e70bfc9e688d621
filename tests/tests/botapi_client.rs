//! The botapi client against the fake Bot API server: every method, uploads, downloads,
//! each error answer, and the token kept out of every error.

use std::cell::RefCell;
use std::time::Duration;

use botapi::{
    AnswerCallbackQuery, AnswerPreCheckoutQuery, BotApi, BotApiError, BotCommand, BotCommandScope,
    ChatAction, EditMessageReplyMarkup, EditMessageText, Edited, InlineKeyboardButton,
    InlineKeyboardMarkup, InputFile, ParseMode, ReqwestHttp, SendDocument, SendInvoice,
    SendMessage, SendPhoto, SetMyCommands, SetWebhook, TELEGRAM_DOWNLOAD_LIMIT, with_retry_429,
};
use qwen_core::ports::HttpError;
use serde_json::json;
use testkit::fakes::telegram::{DOWNLOAD, Failure, FakeTelegram};

const CHAT: i64 = 555_001;

fn api<'a>(fake: &FakeTelegram, http: &'a ReqwestHttp) -> BotApi<&'a ReqwestHttp> {
    BotApi::new(fake.base_url(), fake.token(), http)
}

fn keyboard() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(vec![vec![
        InlineKeyboardButton::callback("Yes", "confirm:1"),
        InlineKeyboardButton::url("Help", "https://example.org/help"),
    ]])
}

/// Bytes that look like multipart syntax, to prove the encoding is binary-safe.
fn tricky_bytes() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\r\n--boundary\r\n\r\n".to_vec();
    b.extend((0..=255u8).cycle().take(70_000));
    b
}

#[tokio::test]
async fn get_me_and_send_message() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let me = api.get_me().await.unwrap();
    assert!(me.is_bot);
    assert_eq!(me.id, fake.bot_id());

    let req = SendMessage::new(CHAT, "<b>Hi</b>")
        .parse_mode(ParseMode::Html)
        .reply_markup(keyboard())
        .reply_to(7);
    let first = api.send_message(&req).await.unwrap();
    let second = api
        .send_message(&SendMessage::new(CHAT, "again"))
        .await
        .unwrap();
    let other = api
        .send_message(&SendMessage::new(CHAT + 1, "x"))
        .await
        .unwrap();
    assert_eq!(
        (first.message_id, second.message_id, other.message_id),
        (1, 2, 1)
    );
    assert_eq!(first.chat.id, CHAT);
    assert_eq!(first.chat.kind, "private");
    assert_eq!(first.reply_markup, Some(keyboard()));
    assert_eq!(first.text.as_deref(), Some("<b>Hi</b>"));

    let call = &fake.calls_of("sendMessage")[0];
    assert_eq!(call.content_type, "application/json");
    assert_eq!(call.param("parse_mode"), "HTML");
    assert_eq!(call.param("reply_parameters")["message_id"], 7);
    assert_eq!(
        call.param("reply_markup")["inline_keyboard"][0][0]["callback_data"],
        "confirm:1"
    );
    assert_eq!(
        call.param("reply_markup")["inline_keyboard"][0][1]["url"],
        "https://example.org/help"
    );
    assert!(
        call.params.get("disable_notification").is_none(),
        "unset options are omitted"
    );
}

#[tokio::test]
async fn edits_fold_not_modified_and_delete() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let sent = api
        .send_message(&SendMessage::new(CHAT, "10%"))
        .await
        .unwrap();

    let edit = EditMessageText::new(CHAT, sent.message_id, "50%").reply_markup(keyboard());
    let Edited::Message(m) = api.edit_message_text(&edit).await.unwrap() else {
        panic!("expected the edited message");
    };
    assert_eq!(m.text.as_deref(), Some("50%"));
    assert!(m.edit_date.is_some());
    assert_eq!(
        fake.message_text(CHAT, sent.message_id).as_deref(),
        Some("50%")
    );
    // Same text and keyboard again: Telegram says "not modified", the client folds it.
    assert_eq!(
        api.edit_message_text(&edit).await.unwrap(),
        Edited::NotModified
    );

    let markup = EditMessageReplyMarkup {
        chat_id: CHAT.into(),
        message_id: sent.message_id,
        reply_markup: None,
    };
    assert!(matches!(
        api.edit_message_reply_markup(&markup).await.unwrap(),
        Edited::Message(_)
    ));
    assert_eq!(
        api.edit_message_reply_markup(&markup).await.unwrap(),
        Edited::NotModified
    );

    assert!(api.delete_message(CHAT, sent.message_id).await.unwrap());
    assert!(fake.is_deleted(CHAT, sent.message_id));
    let again = api.delete_message(CHAT, sent.message_id).await.unwrap_err();
    assert!(
        matches!(again, BotApiError::BadRequest { ref description } if description.contains("message to delete not found"))
    );
}

#[tokio::test]
async fn callback_answer_and_chat_action() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let req = AnswerCallbackQuery::new("4382bfdwdsb323b2d9").text("Not enough credits", true);
    assert!(api.answer_callback_query(&req).await.unwrap());
    let call = &fake.calls_of("answerCallbackQuery")[0];
    assert_eq!(
        call.params,
        json!({"callback_query_id": "4382bfdwdsb323b2d9", "text": "Not enough credits", "show_alert": true})
    );

    assert!(
        api.send_chat_action(CHAT, ChatAction::UploadPhoto)
            .await
            .unwrap()
    );
    assert_eq!(
        fake.calls_of("sendChatAction")[0].param("action"),
        "upload_photo"
    );
}

#[tokio::test]
async fn send_photo_by_id_url_and_upload() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let by_id = SendPhoto::new(CHAT, InputFile::FileId("AgACAgIAAxkBAAIBc2X".into()));
    let msg = api.send_photo(&by_id).await.unwrap();
    assert_eq!(msg.largest_photo().unwrap().file_id, "AgACAgIAAxkBAAIBc2X");
    let by_url = SendPhoto::new(CHAT, InputFile::Url("https://example.org/p.jpg".into()));
    api.send_photo(&by_url).await.unwrap();
    let calls = fake.calls_of("sendPhoto");
    assert_eq!(calls[0].param("photo"), "AgACAgIAAxkBAAIBc2X");
    assert_eq!(calls[1].param("photo"), "https://example.org/p.jpg");
    assert_eq!(calls[1].content_type, "application/json");

    let bytes = tricky_bytes();
    let upload = SendPhoto::new(
        CHAT,
        InputFile::upload("result \"1\".png", "image/png", bytes.clone()),
    )
    .caption("Done ✨")
    .reply_markup(keyboard())
    .reply_to(3);
    let msg = api.send_photo(&upload).await.unwrap();
    assert_eq!(msg.photo.len(), 3);
    assert_eq!(msg.caption.as_deref(), Some("Done ✨"));

    let call = &fake.calls_of("sendPhoto")[2];
    assert!(
        call.content_type
            .starts_with("multipart/form-data; boundary=")
    );
    let file = call.file("photo").expect("uploaded photo");
    assert_eq!(file.bytes, bytes);
    assert_eq!(file.filename.as_deref(), Some("result %221%22.png"));
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(call.chat_id(), Some(CHAT));
    assert_eq!(call.param("caption"), "Done ✨");
    assert_eq!(
        call.param("reply_markup"),
        &serde_json::to_value(keyboard()).unwrap()
    );
    assert_eq!(call.param("reply_parameters")["message_id"], 3);

    // The uploaded photo can be fetched back like any Telegram file.
    let largest = msg.largest_photo().unwrap().file_id.clone();
    let back = api
        .download_file_by_id(&largest, TELEGRAM_DOWNLOAD_LIMIT)
        .await
        .unwrap();
    assert_eq!(back, bytes);
}

#[tokio::test]
async fn send_document_upload_round_trip() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let bytes = tricky_bytes();
    let req = SendDocument::new(
        CHAT,
        InputFile::upload("edit-42.png", "image/png", bytes.clone()),
    )
    .caption("Full quality");
    let msg = api.send_document(&req).await.unwrap();
    let doc = msg.document.expect("document");
    assert_eq!(doc.file_name.as_deref(), Some("edit-42.png"));
    assert_eq!(doc.mime_type.as_deref(), Some("image/png"));
    assert_eq!(doc.file_size, Some(bytes.len() as u64));
    let call = &fake.calls_of("sendDocument")[0];
    assert_eq!(call.file("document").unwrap().bytes, bytes);
    assert_eq!(fake.file_bytes(&doc.file_id).unwrap(), bytes);

    let by_id = SendDocument::new(CHAT, InputFile::FileId(doc.file_id.clone()));
    api.send_document(&by_id).await.unwrap();
    assert_eq!(
        fake.calls_of("sendDocument")[1].param("document"),
        doc.file_id.as_str()
    );
}

#[tokio::test]
async fn get_file_and_download_with_limits() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let path = fake.add_file("AgAD-input", vec![7u8; 5_000]);
    let file = api.get_file("AgAD-input").await.unwrap();
    assert_eq!(file.file_path.as_deref(), Some(path.as_str()));
    assert_eq!(file.file_size, Some(5_000));
    assert_eq!(
        api.download_file(&path, 5_000).await.unwrap(),
        vec![7u8; 5_000]
    );

    // Over the limit: refused from getFile's size, before any download.
    let downloads = fake.calls_of(DOWNLOAD).len();
    let err = api
        .download_file_by_id("AgAD-input", 4_999)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BotApiError::FileTooLarge {
            size: 5_000,
            max: 4_999
        }
    );
    assert_eq!(fake.calls_of(DOWNLOAD).len(), downloads);
    // And by the body itself when only the path is known.
    let err = api.download_file(&path, 100).await.unwrap_err();
    assert!(matches!(
        err,
        BotApiError::FileTooLarge {
            size: 5_000,
            max: 100
        }
    ));

    let missing = api.get_file("nope").await.unwrap_err();
    assert!(
        matches!(missing, BotApiError::BadRequest { ref description } if description.contains("invalid file_id"))
    );
    let gone = api.download_file("photos/nope.jpg", 100).await.unwrap_err();
    assert!(matches!(gone, BotApiError::Api { code: 404, .. }));
}

#[tokio::test]
async fn webhook_and_commands() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let hook = SetWebhook {
        url: "https://bot.example.org/telegram/webhook".into(),
        secret_token: Some("s3cr3t_-TOKEN".into()),
        allowed_updates: Some(vec![
            "message".into(),
            "callback_query".into(),
            "pre_checkout_query".into(),
        ]),
        drop_pending_updates: Some(true),
        max_connections: Some(16),
    };
    assert!(api.set_webhook(&hook).await.unwrap());
    assert_eq!(fake.webhook()["secret_token"], "s3cr3t_-TOKEN");
    let info = api.get_webhook_info().await.unwrap();
    assert_eq!(info.url, hook.url);
    assert_eq!(info.max_connections, Some(16));
    assert_eq!(info.allowed_updates, hook.allowed_updates);
    assert!(api.delete_webhook(true).await.unwrap());
    assert_eq!(api.get_webhook_info().await.unwrap().url, "");

    let cmds = vec![
        BotCommand::new("start", "Start"),
        BotCommand::new("balance", "Balance"),
    ];
    let req = SetMyCommands {
        commands: cmds.clone(),
        scope: None,
        language_code: None,
    };
    assert!(api.set_my_commands(&req).await.unwrap());
    assert_eq!(api.get_my_commands().await.unwrap(), cmds);
    let ru = SetMyCommands {
        commands: cmds,
        scope: Some(BotCommandScope::AllPrivateChats),
        language_code: Some("ru".into()),
    };
    assert!(api.set_my_commands(&ru).await.unwrap());
    let call = &fake.calls_of("setMyCommands")[1];
    assert_eq!(call.param("scope"), &json!({"type": "all_private_chats"}));
    assert_eq!(call.param("language_code"), "ru");
}

#[tokio::test]
async fn stars_invoice_checkout_and_refund() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    let inv = SendInvoice::stars(
        CHAT,
        "100 credits",
        "Top up 100 credits",
        "topup:u1:100",
        50,
    );
    let msg = api.send_invoice(&inv).await.unwrap();
    assert_eq!(msg.invoice.as_ref().unwrap()["total_amount"], 50);
    let call = &fake.calls_of("sendInvoice")[0];
    assert_eq!(call.param("currency"), "XTR");
    assert!(call.params.get("provider_token").is_none());
    assert_eq!(
        call.param("prices"),
        &json!([{"label": "100 credits", "amount": 50}])
    );
    assert_eq!(call.param("payload"), "topup:u1:100");

    assert!(
        api.answer_pre_checkout_query(&AnswerPreCheckoutQuery::accept("pcq-1"))
            .await
            .unwrap()
    );
    let refuse = AnswerPreCheckoutQuery::refuse("pcq-2", "Payments are paused");
    assert!(api.answer_pre_checkout_query(&refuse).await.unwrap());
    let calls = fake.calls_of("answerPreCheckoutQuery");
    assert_eq!(
        calls[0].params,
        json!({"pre_checkout_query_id": "pcq-1", "ok": true})
    );
    assert_eq!(calls[1].param("error_message"), "Payments are paused");

    assert!(api.refund_star_payment(CHAT, "stxCHARGE1").await.unwrap());
    let twice = api
        .refund_star_payment(CHAT, "stxCHARGE1")
        .await
        .unwrap_err();
    assert!(
        matches!(twice, BotApiError::BadRequest { ref description } if description.contains("CHARGE_ALREADY_REFUNDED"))
    );
}

/// Makes one `sendMessage` call that the fake answers with `failure`.
async fn failing_send(
    fake: &FakeTelegram,
    api: &BotApi<&ReqwestHttp>,
    failure: Failure,
) -> BotApiError {
    fake.fail_next("sendMessage", 1, failure);
    api.send_message(&SendMessage::new(CHAT, "hi"))
        .await
        .unwrap_err()
}

/// Every error variant a real call can produce, with how it was produced.
async fn every_error(fake: &FakeTelegram, http: &ReqwestHttp) -> Vec<BotApiError> {
    let api = api(fake, http);
    let mut errors = vec![
        failing_send(fake, &api, Failure::TooManyRequests { retry_after: 3 }).await,
        failing_send(fake, &api, Failure::Blocked).await,
        failing_send(fake, &api, Failure::NotModified).await,
        failing_send(fake, &api, Failure::BadRequest("chat not found".into())).await,
        failing_send(fake, &api, Failure::Migrated(-1_001_234_567_890)).await,
        failing_send(fake, &api, Failure::ServerError).await,
        failing_send(fake, &api, Failure::BadGateway).await,
    ];
    let short = BotApi::new(fake.base_url(), fake.token(), http).with_timeout_ms(200);
    fake.fail_next("sendMessage", 1, Failure::Hang(Duration::from_secs(2)));
    errors.push(
        short
            .send_message(&SendMessage::new(CHAT, "hi"))
            .await
            .unwrap_err(),
    );
    let wrong = BotApi::new(fake.base_url(), "987654:wrong-token-XYZ", http);
    errors.push(wrong.get_me().await.unwrap_err());
    errors.push(
        api.call::<_, serde_json::Value>("noSuchMethod", &json!({}))
            .await
            .unwrap_err(),
    );
    errors.push(
        api.call::<_, Vec<String>>("getMe", &json!({}))
            .await
            .unwrap_err(),
    );
    errors.push(api.download_file("photos/none.jpg", 1).await.unwrap_err());
    errors.push(refused(fake.token(), http).await);
    errors
}

/// A call to a port nobody listens on.
async fn refused(token: &str, http: &ReqwestHttp) -> BotApiError {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = BotApi::new(format!("http://127.0.0.1:{port}"), token, http);
    api.get_me().await.unwrap_err()
}

#[tokio::test]
async fn each_error_answer_maps_to_its_variant() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let e = every_error(&fake, &http).await;
    assert_eq!(e[0], BotApiError::TooManyRequests { retry_after: 3 });
    assert!(e[0].is_retryable() && e[0].retry_after() == Some(3));
    assert!(
        matches!(e[1], BotApiError::Forbidden { ref description } if description == "Forbidden: bot was blocked by the user")
    );
    assert!(e[1].is_forbidden() && !e[1].is_retryable());
    assert_eq!(e[2], BotApiError::NotModified);
    assert!(
        matches!(e[3], BotApiError::BadRequest { ref description } if description == "Bad Request: chat not found")
    );
    assert_eq!(
        e[4],
        BotApiError::ChatMigrated {
            migrate_to_chat_id: -1_001_234_567_890
        }
    );
    assert_eq!(e[5], BotApiError::Server { status: 500 });
    assert_eq!(e[6], BotApiError::Server { status: 502 });
    assert!(e[6].is_retryable());
    assert_eq!(e[7], BotApiError::Transport(HttpError::Timeout));
    assert!(e[7].is_retryable());
    assert_eq!(e[8], BotApiError::Unauthorized);
    assert!(
        matches!(e[9], BotApiError::Api { code: 404, ref description } if description == "Not Found")
    );
    assert!(matches!(e[10], BotApiError::Decode(_)));
    assert!(matches!(e[11], BotApiError::Api { code: 404, .. }));
    assert!(matches!(
        e[12],
        BotApiError::Transport(HttpError::Connect(_))
    ));
    assert!(e[12].is_retryable());
}

#[tokio::test]
async fn token_never_appears_in_errors() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let secret = fake.token().split_once(':').unwrap().1.to_owned();
    let mut texts: Vec<String> = Vec::new();
    for e in every_error(&fake, &http).await {
        texts.push(format!("{e}"));
        texts.push(format!("{e:?}"));
    }
    texts.push(format!("{:?}", api(&fake, &http)));
    for t in &texts {
        assert!(
            !t.contains(fake.token()) && !t.contains(&secret),
            "token leaked: {t}"
        );
        assert!(!t.contains("wrong-token"), "token leaked: {t}");
    }
}

#[tokio::test]
async fn scripted_failure_for_one_chat_only() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    fake.fail_next_for_chat("sendPhoto", CHAT, 1, Failure::Blocked);
    let other = SendPhoto::new(CHAT + 1, InputFile::FileId("f".into()));
    assert!(api.send_photo(&other).await.is_ok());
    let mine = SendPhoto::new(CHAT, InputFile::upload("a.png", "image/png", vec![1, 2, 3]));
    assert!(api.send_photo(&mine).await.unwrap_err().is_forbidden());
    assert!(
        api.send_photo(&mine).await.is_ok(),
        "only the next call fails"
    );
    let statuses: Vec<u16> = fake
        .calls_of("sendPhoto")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![200, 403, 200]);
}

#[tokio::test]
async fn retry_429_honours_retry_after() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    fake.fail_next(
        "sendMessage",
        2,
        Failure::TooManyRequests { retry_after: 5 },
    );
    let slept = RefCell::new(Vec::new());
    let sleep = |d: Duration| {
        slept.borrow_mut().push(d);
        std::future::ready(())
    };
    let req = SendMessage::new(CHAT, "hello");
    let msg = with_retry_429(3, sleep, || api.send_message(&req))
        .await
        .unwrap();
    assert_eq!(msg.text.as_deref(), Some("hello"));
    assert_eq!(*slept.borrow(), vec![Duration::from_secs(5); 2]);
    assert_eq!(fake.calls_of("sendMessage").len(), 3);

    fake.fail_next(
        "sendMessage",
        5,
        Failure::TooManyRequests { retry_after: 1 },
    );
    let err = with_retry_429(2, |_| std::future::ready(()), || api.send_message(&req)).await;
    assert_eq!(
        err.unwrap_err(),
        BotApiError::TooManyRequests { retry_after: 1 }
    );
}

#[tokio::test]
async fn fake_accepts_query_string_and_form_parameters() {
    let fake = FakeTelegram::start().await;
    let client = reqwest::Client::new();
    let base = format!("{}/bot{}", fake.base_url(), fake.token());
    let q: serde_json::Value = client
        .get(format!(
            "{base}/SENDMESSAGE?chat_id={CHAT}&text=via%20query"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["ok"], true);
    assert_eq!(q["result"]["text"], "via query");
    let f: serde_json::Value = client
        .post(format!("{base}/sendMessage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "chat_id={CHAT}&text=123&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["result"]["message_id"], 2);
    let call = &fake.calls_of("sendMessage")[1];
    assert_eq!(
        call.params,
        json!({"chat_id": CHAT, "text": "123", "reply_markup": {"inline_keyboard": []}})
    );
    let waited = fake
        .wait_for_calls("sendMessage", 2, Duration::from_secs(1))
        .await;
    assert_eq!(waited.len(), 2);
}

#[tokio::test]
async fn a_flooded_chat_is_refused_until_retry_after_has_passed() {
    let fake = FakeTelegram::start().await;
    let http = ReqwestHttp::new();
    let api = api(&fake, &http);
    fake.flood_chat("sendMessage", CHAT, 1);
    let req = SendMessage::new(CHAT, "hello");
    for _ in 0..2 {
        let e = api.send_message(&req).await.unwrap_err();
        assert_eq!(e, BotApiError::TooManyRequests { retry_after: 1 });
    }
    assert!(
        api.send_message(&SendMessage::new(CHAT + 1, "other"))
            .await
            .is_ok(),
        "other chats are not flooded"
    );
    let edit = EditMessageText::new(CHAT, 1, "edited");
    assert!(
        api.edit_message_text(&edit).await.is_ok(),
        "other methods neither"
    );
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    assert!(
        api.send_message(&req).await.is_ok(),
        "after the wait it goes"
    );
    let refused = fake
        .calls_of("sendMessage")
        .into_iter()
        .find(|c| c.status == 429)
        .expect("a refusal");
    assert_eq!(refused.status, 429);
}
