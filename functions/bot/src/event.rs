//! What an incoming update means for the conversation.

use botapi::{CallbackQuery, Message, Update};

use crate::callback::Button;

/// Image MIME types accepted in documents.
pub const IMAGE_MIME_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `/name args`.
    Command {
        /// Command without `/` and `@bot`, lowercase.
        name: String,
        /// The rest of the text, trimmed.
        args: String,
    },
    /// A pressed inline button.
    Button(Button),
    /// Plain text.
    Text(String),
    /// An image: a photo (largest size) or an image document.
    Image {
        /// Telegram file id.
        file_id: String,
        /// Album id, when part of an album.
        media_group_id: Option<String>,
        /// The message's id: the images of a draft are kept in this order (an album's
        /// photos arrive as separate updates, in any order).
        message_id: i64,
    },
    /// A document that is not a JPEG, PNG or WEBP image.
    NotImage,
    /// A message kind the bot does not handle (sticker, voice, video…).
    Unsupported,
    /// The user blocked the bot (`my_chat_member` → `kicked`).
    Blocked,
    /// The user unblocked the bot (`my_chat_member` → `member`).
    Unblocked,
    /// A Stars checkout to confirm (`pre_checkout_query`).
    PreCheckout {
        /// Query id for `answerPreCheckoutQuery`.
        id: String,
        /// Currency (`XTR`).
        currency: String,
        /// Total in the smallest unit.
        total_amount: i64,
        /// Invoice payload (our payment id).
        payload: String,
    },
    /// A completed payment (`message.successful_payment`).
    Paid {
        /// Currency (`XTR`).
        currency: String,
        /// Total in the smallest unit.
        total_amount: i64,
        /// Invoice payload (our payment id).
        payload: String,
        /// `telegram_payment_charge_id`.
        charge_id: String,
    },
    /// A command, image or button press in a group, supergroup or channel: the bot works in
    /// private chats only, so it answers one line pointing there and does nothing else.
    InGroup,
    /// Nothing to do (edited messages, channel posts, other update kinds).
    Ignored,
    /// What an effect reported back (never parsed from an update): the transition decides
    /// the state it leads to, from the state before the step that ran the effect.
    Outcome(Outcome),
}

/// An effect's report that changes where the dialog goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The screen to show is gone (a preset deleted meanwhile): back to the main menu.
    NothingToShow,
    /// The job was not created (no photos, balance too low, prompt refused): the user stays
    /// in the flow they were in, to fix it and try again.
    JobRefused,
}

impl Event {
    /// Whether the event is about the account or a payment, not the dialog: it keeps the
    /// dialog state as it is, so none is read or written for it.
    pub fn is_account(&self) -> bool {
        matches!(
            self,
            Event::Blocked | Event::Unblocked | Event::PreCheckout { .. } | Event::Paid { .. }
        )
    }
}

/// An update reduced to what the conversation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The update id.
    pub update_id: i64,
    /// The chat to answer in (`None` for updates without one).
    pub chat_id: Option<i64>,
    /// The user, when known.
    pub user: Option<botapi::User>,
    /// The callback query id and its message id, for button presses.
    pub callback: Option<(String, Option<i64>)>,
    /// What happened.
    pub event: Event,
}

/// Reads an update.
pub fn parse(update: &Update) -> Incoming {
    let (event, callback) = if let Some(m) = &update.message {
        (from_message(m), None)
    } else if let Some(q) = &update.callback_query {
        (
            from_callback(q),
            Some((q.id.clone(), q.message.as_ref().map(|m| m.message_id))),
        )
    } else if let Some(m) = &update.my_chat_member {
        let event = match (m.chat.kind.as_str(), m.new_chat_member.status.as_str()) {
            ("private", "kicked") => Event::Blocked,
            ("private", "member") => Event::Unblocked,
            _ => Event::Ignored,
        };
        (event, None)
    } else if let Some(q) = &update.pre_checkout_query {
        let event = Event::PreCheckout {
            id: q.id.clone(),
            currency: q.currency.clone(),
            total_amount: q.total_amount,
            payload: q.invoice_payload.clone(),
        };
        (event, None)
    } else {
        (Event::Ignored, None)
    };
    Incoming {
        update_id: update.update_id,
        event: for_chat(event, chat_kind(update)),
        chat_id: update.chat_id(),
        user: update.from().cloned(),
        callback,
    }
}

/// The type of the chat a message or button press is in (`None` when it has none).
fn chat_kind(update: &Update) -> Option<&str> {
    let message = update.message.as_ref().or_else(|| {
        update
            .callback_query
            .as_ref()
            .and_then(|q| q.message.as_ref())
    })?;
    Some(message.chat.kind.as_str())
}

/// `event` as it counts in a chat of type `kind`: in a group, supergroup or channel a
/// command, image or button becomes [`Event::InGroup`], other chatter is ignored; payments
/// and account events stay what they are.
fn for_chat(event: Event, kind: Option<&str>) -> Event {
    if !matches!(kind, Some("group" | "supergroup" | "channel")) || event.is_account() {
        return event;
    }
    match event {
        Event::Command { .. } | Event::Image { .. } | Event::Button(_) => Event::InGroup,
        _ => Event::Ignored,
    }
}

fn from_callback(q: &CallbackQuery) -> Event {
    Event::Button(crate::screens::parse_button(
        q.data.as_deref().unwrap_or(""),
    ))
}

fn from_message(m: &Message) -> Event {
    if let Some(p) = &m.successful_payment {
        return Event::Paid {
            currency: p.currency.clone(),
            total_amount: p.total_amount,
            payload: p.invoice_payload.clone(),
            charge_id: p.telegram_payment_charge_id.clone(),
        };
    }
    if let Some(p) = m.largest_photo() {
        return image(&p.file_id, m);
    }
    if let Some(d) = &m.document {
        let mime = d.mime_type.as_deref().unwrap_or("").to_ascii_lowercase();
        return if IMAGE_MIME_TYPES.contains(&mime.as_str()) {
            image(&d.file_id, m)
        } else {
            Event::NotImage
        };
    }
    match (&m.text, m.command()) {
        (Some(text), Some(cmd)) => Event::Command {
            name: cmd.to_ascii_lowercase(),
            args: text
                .split_once(char::is_whitespace)
                .map(|(_, a)| a.trim())
                .unwrap_or("")
                .into(),
        },
        (Some(text), None) => Event::Text(text.clone()),
        (None, _) => Event::Unsupported,
    }
}

fn image(file_id: &str, m: &Message) -> Event {
    Event::Image {
        file_id: file_id.into(),
        media_group_id: m.media_group_id.clone(),
        message_id: m.message_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> Update {
        serde_json::from_str(json).expect("valid update")
    }

    #[test]
    fn buttons_round_trip() {
        use crate::screens::parse_button;
        use crate::screens::{presets, topup};
        for data in [
            "menu",
            "cats",
            "cat:style:3",
            "preset:anime",
            "custom",
            "go",
            "cancel:5f0c",
            "profile",
            "topup",
            "paym:stars",
            "pkg:yookassa_card:500",
            "help",
            "lang",
            "lang:en",
        ] {
            let b = parse_button(data);
            assert_ne!(b, Button::unknown(), "{data}");
            assert_eq!(b.data(), data);
            assert!(b.data().len() <= 64);
        }
        assert_eq!(parse_button("cat:style:3"), presets::category("style", 3));
        assert_eq!(parse_button("pkg:stars:100"), topup::package("stars", 100));
        assert_eq!(parse_button("cancel:5f0c").args, ["5f0c"]);
        assert_eq!(parse_button("nonsense:1"), Button::unknown());
    }

    #[test]
    fn photo_uses_largest_size() {
        let u = update(
            r#"{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},
            "from":{"id":7,"is_bot":false,"first_name":"A"},"media_group_id":"g1",
            "photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":90},
                     {"file_id":"big","file_unique_id":"b","width":1280,"height":960}]}}"#,
        );
        let inc = parse(&u);
        assert_eq!(
            inc.event,
            Event::Image {
                file_id: "big".into(),
                media_group_id: Some("g1".into()),
                message_id: 5,
            }
        );
        assert_eq!(inc.chat_id, Some(7));
    }

    #[test]
    fn documents_by_mime_type() {
        let doc = |mime: &str| {
            update(&format!(
                r#"{{"update_id":1,"message":{{"message_id":5,"date":1,"chat":{{"id":7,"type":"private"}},
                "document":{{"file_id":"d","file_unique_id":"u","mime_type":"{mime}"}}}}}}"#
            ))
        };
        assert!(matches!(
            parse(&doc("image/webp")).event,
            Event::Image { .. }
        ));
        assert_eq!(parse(&doc("application/pdf")).event, Event::NotImage);
    }

    #[test]
    fn commands_text_and_other_kinds() {
        let msg = |body: &str| {
            update(&format!(
                r#"{{"update_id":1,"message":{{"message_id":5,"date":1,"chat":{{"id":7,"type":"private"}},{body}}}}}"#
            ))
        };
        assert_eq!(
            parse(&msg(r#""text":"/Adjust@qwen_bot 5 -10 fix it""#)).event,
            Event::Command {
                name: "adjust".into(),
                args: "5 -10 fix it".into()
            }
        );
        assert_eq!(
            parse(&msg(r#""text":"make it blue""#)).event,
            Event::Text("make it blue".into())
        );
        assert_eq!(
            parse(&msg(r#""sticker":{"file_id":"x"}"#)).event,
            Event::Unsupported
        );
        let edited = update(
            r#"{"update_id":2,"edited_message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"text":"x"}}"#,
        );
        assert_eq!(parse(&edited).event, Event::Ignored);
    }

    #[test]
    fn group_chats_get_in_group_or_nothing() {
        let msg = |kind: &str, body: &str| {
            update(&format!(
                r#"{{"update_id":1,"message":{{"message_id":5,"date":1,"chat":{{"id":-7,"type":"{kind}"}},
                "from":{{"id":7,"is_bot":false,"first_name":"A"}},{body}}}}}"#
            ))
        };
        for kind in ["group", "supergroup", "channel"] {
            assert_eq!(
                parse(&msg(kind, r#""text":"/stats""#)).event,
                Event::InGroup
            );
            assert_eq!(
                parse(&msg(kind, r#""text":"hello all""#)).event,
                Event::Ignored
            );
        }
        assert_ne!(
            parse(&msg("private", r#""text":"/stats""#)).event,
            Event::InGroup
        );
    }

    #[test]
    fn blocked_by_user() {
        let u = update(
            r#"{"update_id":3,"my_chat_member":{"chat":{"id":7,"type":"private"},"from":{"id":7,"first_name":"A"},
            "date":1,"old_chat_member":{"status":"member","user":{"id":1,"is_bot":true,"first_name":"B"}},
            "new_chat_member":{"status":"kicked","user":{"id":1,"is_bot":true,"first_name":"B"},"until_date":0}}}"#,
        );
        assert_eq!(parse(&u).event, Event::Blocked);
    }
}
