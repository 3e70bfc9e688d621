//! Top-up (`topup`): choose a payment method (the payments registry [`METHODS`],
//! `paym:<method>`), then a package (the payment settings, `pkg:<method>:<amount>`). The
//! package button creates the payment (see `effects.rs`).

use qwen_core::contract::{UserId};
use async_trait::async_trait;
use botapi::InlineKeyboardButton;
use qwen_core::payments::{self, METHODS};
use qwen_core::{CoreResult, ledger};
use qwen_texts::{Lang, t, tf};

use crate::callback::{Button, Screen};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, nav};
use crate::state::DialogState;
use crate::step::{Effect, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&TopUp, &PayMethod, &Package];

/// The top-up screen (payment methods).
pub fn screen() -> Screen {
    Button::to("topup")
}

/// The packages of a payment method.
pub fn method(id: &str) -> Button {
    Button::with("paym", vec![id.to_owned()])
}

/// A package of a method, in whole roubles or stars.
pub fn package(method: &str, amount: i64) -> Button {
    Button::with("pkg", vec![method.to_owned(), amount.to_string()])
}

/// `topup`: the payment methods.
pub struct TopUp;

#[async_trait(?Send)]
impl Route for TopUp {
    fn prefix(&self) -> &'static str {
        "topup"
    }

    fn press(&self, _: &DialogState, _: &[String]) -> Option<Step> {
        let show = Effect::Show(screen());
        Some(step(DialogState::AwaitingPaymentAmount, vec![show]))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(render(view).await)
    }
}

/// `paym:<method id>`: the packages of a payment method.
pub struct PayMethod;

#[async_trait(?Send)]
impl Route for PayMethod {
    fn prefix(&self) -> &'static str {
        "paym"
    }

    fn arity(&self) -> usize {
        1
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let [m] = args else {
            return Some(crate::step::stale(state));
        };
        let show = Effect::Show(method(m));
        Some(step(DialogState::AwaitingPaymentAmount, vec![show]))
    }

    async fn render(&self, view: &View<'_>, args: &[String]) -> Option<CoreResult<Rendered>> {
        let [m] = args else { return None };
        Some(packages(view, m).await)
    }
}

/// `pkg:<method id>:<amount>`: pays for a package (an amount that is no number is stale).
pub struct Package;

#[async_trait(?Send)]
impl Route for Package {
    fn prefix(&self) -> &'static str {
        "pkg"
    }

    fn arity(&self) -> usize {
        2
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let pay = match args {
            [m, n] => n.parse().ok().map(|package| Effect::Pay {
                method: m.clone(),
                package,
            }),
            _ => None,
        };
        Some(match pay {
            Some(pay) => step(DialogState::AwaitingPaymentAmount, vec![pay]),
            None => crate::step::stale(state),
        })
    }
}

/// The top-up screen: balance and one button per payment method.
///
/// # Errors
/// The storage error.
pub async fn render(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let balance = ledger::balance(view.sql, UserId(view.user_id)).await?;
    let text = tf(lang, "topup", &[("balance", balance.to_string())]);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = METHODS
        .iter()
        .map(|m| {
            let label = t(lang, m.labels().button);
            vec![InlineKeyboardButton::callback(
                label,
                method(&m.id().to_string()).data(),
            )]
        })
        .collect();
    rows.extend(nav(lang, Button::to("profile")));
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
            let bonus = ledger::calculate_bonus(p.credits, view.settings.topup_bonus_percent);
            vec![InlineKeyboardButton::callback(
                package_label(lang, cur, p.amount, p.credits, bonus),
                package(method, p.amount).data(),
            )]
        })
        .chain(nav(lang, screen()))
        .collect();
    let mut text = t(lang, m.labels().packages).to_owned();
    let price = view.edit_price();
    if price > 0 {
        text.push('\n');
        text.push_str(&tf(lang, "price_per_edit", &[("price", price.to_string())]));
    }
    Ok(Rendered::new(text, rows))
}

/// "300 ₽ → 300 + 30 credits": what a package pays and credits, its bonus (the one the
/// top-up will post, [`ledger::calculate_bonus`]) shown apart.
fn package_label(
    lang: Lang,
    cur: payments::Currency,
    amount: i64,
    credits: i64,
    bonus: i64,
) -> String {
    let key = match (cur, bonus > 0) {
        (payments::Currency::Rub, false) => "btn_package_rub",
        (payments::Currency::Rub, true) => "btn_package_rub_bonus",
        (payments::Currency::Xtr, false) => "btn_package_stars",
        (payments::Currency::Xtr, true) => "btn_package_stars_bonus",
    };
    let args = [
        ("amount", amount.to_string()),
        ("credits", credits.to_string()),
        ("bonus", bonus.to_string()),
    ];
    tf(lang, key, &args)
}
