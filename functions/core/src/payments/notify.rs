//! What the payer reads when a payment ends: the "balance topped up" message, the reason a
//! YooKassa payment did not go through (with a button back to the top-up screen), the line
//! that replaces a finished payment's "Pay" message, and the notice of a Stars payment
//! refunded because it could not be credited. All best effort: a failed send is logged.

use botapi::{BotApi, EditMessageText, InlineKeyboardButton, InlineKeyboardMarkup, SendMessage};

use super::model::{Deps, Payment};
use super::telegram::payer_language;
use crate::contract::{Language, UserId};
use crate::ports::HttpClient;

/// The callback data of the bot's top-up screen button.
pub const TOPUP_BUTTON: &str = "topup";

/// The "balance topped up" message: credits, bonus, new balance, in the user's language.
pub fn topped_up_text(lang: Language, credits: i64, bonus: i64, balance: i64) -> String {
    let args = [
        ("credits", credits.to_string()),
        ("bonus", bonus.to_string()),
        ("balance", balance.to_string()),
    ];
    qwen_texts::tf(lang, "topped_up", &args)
}

/// The reason text of YooKassa's `cancellation_details.reason`.
pub fn cancel_reason_key(reason: &str) -> &'static str {
    match reason {
        "expired_on_confirmation" | "expired_on_capture" | "deal_expired" => {
            "cancel_reason_expired"
        }
        "insufficient_funds" => "cancel_reason_funds",
        "card_expired"
        | "invalid_card_number"
        | "invalid_csc"
        | "payment_method_restricted"
        | "payment_method_limit_exceeded"
        | "country_forbidden"
        | "unsupported_mobile_operator" => "cancel_reason_card",
        "3d_secure_failed" => "cancel_reason_3ds",
        "call_issuer"
        | "general_decline"
        | "fraud_suspected"
        | "issuer_unavailable"
        | "identification_required" => "cancel_reason_declined",
        "canceled_by_merchant" | "permission_revoked" => "cancel_reason_canceled",
        _ => "cancel_reason_other",
    }
}

/// `amount` and `currency` of a payment as the payer reads them (whole units).
fn money(p: &Payment) -> [(&'static str, String); 2] {
    [
        (
            "amount",
            (p.amount / p.currency.minor_per_unit()).to_string(),
        ),
        ("currency", p.currency.code().to_owned()),
    ]
}

/// The message telling the payer that payment `p` did not go through, and why.
pub fn canceled_message(lang: Language, p: &Payment, reason: &str) -> SendMessage {
    let why = qwen_texts::t(lang, cancel_reason_key(reason));
    let mut args = money(p).to_vec();
    args.push(("reason", why));
    let text = qwen_texts::tf(lang, "payment_canceled", &args);
    let again =
        InlineKeyboardButton::callback(qwen_texts::t(lang, "payment_btn_try_again"), TOPUP_BUTTON);
    SendMessage::new(p.user_id, text).reply_markup(InlineKeyboardMarkup::new(vec![vec![again]]))
}

fn bot<'a>(deps: &'a Deps<'a>) -> Option<BotApi<&'a dyn HttpClient>> {
    match super::telegram::bot(deps) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(error = %e, "no Telegram client for the payer's message");
            None
        }
    }
}

async fn send(deps: &Deps<'_>, p: &Payment, req: &SendMessage) {
    let Some(bot) = bot(deps) else { return };
    if let Err(e) = bot.send_message(req).await {
        tracing::warn!(payment_id = %p.id, user_id = p.user_id, error = %e, "could not tell the payer");
    }
}

/// Replaces the "Pay" message of a finished payment by the line `key` (no button left).
async fn close_pay_message(deps: &Deps<'_>, p: &Payment, lang: Language, key: &str) {
    let (Some(chat), Some(message)) = (p.chat_id, p.message_id) else {
        return;
    };
    if p.method == super::model::Method::Stars {
        return; // An invoice cannot be edited; Telegram closes it itself once paid.
    }
    let Some(bot) = bot(deps) else { return };
    let req = EditMessageText::new(chat, message, qwen_texts::tf(lang, key, &money(p)));
    if let Err(e) = bot.edit_message_text(&req).await {
        tracing::warn!(payment_id = %p.id, user_id = p.user_id, error = %e, "could not close the Pay message");
    }
}

/// A payment was credited: the Pay message becomes "paid ✓", then the top-up message.
pub async fn credited(deps: &Deps<'_>, p: &Payment, balance: i64) {
    let lang = payer_language(deps, p.user_id).await;
    close_pay_message(deps, p, lang, "pay_message_paid").await;
    let text = topped_up_text(lang, p.credits, p.bonus, balance);
    send(deps, p, &SendMessage::new(p.user_id, text)).await;
}

/// A payment was canceled (declined, cancelled or expired at YooKassa): the Pay message says
/// so, and a message gives the reason and a button back to the top-up screen.
pub async fn canceled(deps: &Deps<'_>, p: &Payment, reason: &str) {
    let lang = payer_language(deps, p.user_id).await;
    close_pay_message(deps, p, lang, "pay_message_canceled").await;
    send(deps, p, &canceled_message(lang, p, reason)).await;
}

/// A Stars payment that could not be credited was refunded.
pub async fn stars_refunded(deps: &Deps<'_>, user_id: UserId, payment_id: &str, stars: i64) {
    let lang = payer_language(deps, user_id.0).await;
    let text = qwen_texts::tf(
        lang,
        "stars_refunded_uncredited",
        &[("amount", stars.to_string())],
    );
    let Some(bot) = bot(deps) else { return };
    if let Err(e) = bot.send_message(&SendMessage::new(user_id.0, text)).await {
        tracing::warn!(payment_id, user_id = user_id.0, error = %e, "could not tell the payer about the refund");
    }
}
