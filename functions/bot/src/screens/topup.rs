//! Top-up: amounts. Payments are not wired yet, so every amount answers that top-up is
//! unavailable (no fake success).

use qwen_core::{CoreResult, ledger};

use crate::event::Button;
use crate::i18n::{t, tf};
use crate::screens::{Rendered, View, nav};

/// Amounts offered, in credits.
pub const AMOUNTS: &[i64] = &[100, 300, 500, 1000];

/// The top-up screen: balance, amount buttons, and the notice that top-up is unavailable.
///
/// # Errors
/// The storage error.
pub async fn render(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let balance = ledger::balance(view.sql, view.user_id).await?;
    let mut text = tf(lang, "topup", &[("balance", balance.to_string())]);
    text.push_str("\n\n");
    text.push_str(&t(lang, "topup_unavailable"));
    let amounts = AMOUNTS
        .iter()
        .map(|a| {
            let label = tf(lang, "btn_amount", &[("amount", a.to_string())]);
            botapi::InlineKeyboardButton::callback(label, Button::Amount(*a).data())
        })
        .collect();
    let mut rows = vec![amounts];
    rows.extend(nav(lang, Button::Profile));
    Ok(Rendered::new(text, rows))
}
