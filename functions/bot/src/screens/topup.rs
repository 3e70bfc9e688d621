//! Top-up: choose a payment method (the payments registry [`METHODS`]), then a package (the
//! payment settings). The package button creates the payment (see `effects.rs`).

use botapi::InlineKeyboardButton;
use qwen_core::payments::{self, METHODS};
use qwen_core::{CoreResult, ledger};

use crate::event::Button;
use crate::i18n::{Lang, t, tf};
use crate::screens::{Rendered, View, nav};

/// The top-up screen: balance and one button per payment method.
///
/// # Errors
/// The storage error.
pub async fn render(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let balance = ledger::balance(view.sql, view.user_id).await?;
    let text = tf(lang, "topup", &[("balance", balance.to_string())]);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = METHODS
        .iter()
        .map(|m| {
            let label = t(lang, &format!("btn_method_{}", m.id()));
            vec![InlineKeyboardButton::callback(
                label,
                Button::PayMethod(m.id().to_string()).data(),
            )]
        })
        .collect();
    rows.extend(nav(lang, Button::Profile));
    Ok(Rendered::new(text, rows))
}

/// The packages of `method` (an unknown method shows the method choice again).
///
/// # Errors
/// The storage error.
pub async fn packages(view: &View<'_>, method: &str) -> CoreResult<Rendered> {
    let Ok(m) = payments::method(method) else {
        return render(view).await;
    };
    let lang = view.lang;
    let cur = m.currency();
    let rows = cur
        .packages(view.pay)
        .iter()
        .map(|p| {
            vec![InlineKeyboardButton::callback(
                package_label(lang, cur, p.amount, p.credits),
                Button::Package(method.into(), p.amount).data(),
            )]
        })
        .chain(nav(lang, Button::TopUp))
        .collect();
    let text = t(lang, &format!("topup_packages_{}", m.id()));
    Ok(Rendered::new(text, rows))
}

fn package_label(lang: Lang, cur: payments::Currency, amount: i64, credits: i64) -> String {
    let key = match cur {
        payments::Currency::Rub => "btn_package_rub",
        payments::Currency::Xtr => "btn_package_stars",
    };
    tf(
        lang,
        key,
        &[
            ("amount", amount.to_string()),
            ("credits", credits.to_string()),
        ],
    )
}
