//! Telegram update JSON, as the Bot API delivers it to a webhook: one set of builders for the
//! bot's native tests, the Spin suite and the benches. The sender is "Anna", a private chat
//! with her; `_in` variants take her client's language, the others send Russian.

use serde_json::{Value, json};

fn from_in(user: i64, lang: &str) -> Value {
    json!({"id": user, "is_bot": false, "first_name": "Anna", "username": "anna", "language_code": lang})
}

fn from(user: i64) -> Value {
    from_in(user, "ru")
}

fn chat(user: i64) -> Value {
    json!({"id": user, "type": "private", "first_name": "Anna", "username": "anna"})
}

/// A message update (`message_id` in the user's chat) with `fields` merged into the message.
pub fn message(update_id: i64, message_id: i64, user: i64, fields: Value) -> Value {
    message_in(update_id, message_id, user, "ru", fields)
}

/// [`message`] from a client in `lang`.
pub fn message_in(update_id: i64, message_id: i64, user: i64, lang: &str, fields: Value) -> Value {
    let mut m = json!({"message_id": message_id, "from": from_in(user, lang), "chat": chat(user), "date": 1_767_000_000});
    if let (Some(obj), Some(extra)) = (m.as_object_mut(), fields.as_object()) {
        obj.extend(extra.clone());
    }
    json!({"update_id": update_id, "message": m})
}

/// A text message (a command gets its `bot_command` entity); its message id is the update id.
pub fn text(update_id: i64, user: i64, text: &str) -> Value {
    let mut fields = json!({"text": text});
    if text.starts_with('/') {
        let len = text
            .split_whitespace()
            .next()
            .map_or(0, |c| c.encode_utf16().count());
        fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    message(update_id, update_id, user, fields)
}

/// A photo in three sizes (the largest has file id `file`); `group` makes it part of an album.
pub fn photo(update_id: i64, message_id: i64, user: i64, file: &str, group: Option<&str>) -> Value {
    let mut fields = json!({"photo": [
        {"file_id": format!("{file}-s"), "file_unique_id": format!("{file}s"), "width": 90, "height": 68, "file_size": 1500},
        {"file_id": format!("{file}-m"), "file_unique_id": format!("{file}m"), "width": 320, "height": 240, "file_size": 15000},
        {"file_id": file, "file_unique_id": format!("{file}x"), "width": 1280, "height": 960, "file_size": 120000}
    ]});
    if let Some(g) = group {
        fields["media_group_id"] = json!(g);
    }
    message(update_id, message_id, user, fields)
}

/// A document with `mime`; its message id is the update id.
pub fn document(update_id: i64, user: i64, file: &str, mime: &str) -> Value {
    let doc = json!({"file_id": file, "file_unique_id": format!("{file}u"), "file_name": "x", "mime_type": mime, "file_size": 2048});
    message(update_id, update_id, user, json!({ "document": doc }))
}

/// A pressed inline button with `data` on the bot's message `message_id`.
pub fn callback(update_id: i64, user: i64, data: &str, message_id: i64) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cbq-{update_id}"), "from": from(user), "chat_instance": "-4242",
        "message": {"message_id": message_id, "from": {"id": 1, "is_bot": true, "first_name": "Qwen"},
                    "chat": chat(user), "date": 1_767_000_000, "text": "…"},
        "data": data}})
}

/// A Stars `pre_checkout_query` for invoice `payload`.
pub fn pre_checkout(update_id: i64, user: i64, payload: &str, amount: i64) -> Value {
    json!({"update_id": update_id, "pre_checkout_query": {
        "id": format!("pcq-{update_id}"), "from": from(user),
        "currency": "XTR", "total_amount": amount, "invoice_payload": payload}})
}

/// A `successful_payment` service message for invoice `payload`.
pub fn successful_payment(
    update_id: i64,
    user: i64,
    payload: &str,
    amount: i64,
    charge: &str,
) -> Value {
    message(
        update_id,
        update_id,
        user,
        json!({"successful_payment": {
            "currency": "XTR", "total_amount": amount, "invoice_payload": payload,
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}}),
    )
}
