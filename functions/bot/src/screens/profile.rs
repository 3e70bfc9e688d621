//! Profile (`profile`) and balance (`balance`, shown by `/balance` only).

use qwen_core::contract::{UserId};
use async_trait::async_trait;
use qwen_core::contract::JobStatus;
use qwen_core::{CoreResult, Page, jobs, ledger};
use qwen_texts::{Lang, t, tf};

use crate::callback::{Button, MENU, Screen};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, button, nav};
use crate::state::DialogState;
use crate::step::{Effect, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Profile, &Balance];

/// The balance screen (no button leads to it: `/balance`).
pub fn balance_screen() -> Screen {
    Button::to("balance")
}

/// `profile`: balance, recent ledger entries and jobs.
pub struct Profile;

#[async_trait(?Send)]
impl Route for Profile {
    fn prefix(&self) -> &'static str {
        "profile"
    }

    fn press(&self, _: &DialogState, _: &[String]) -> Option<Step> {
        let show = Effect::Show(Button::to(self.prefix()));
        Some(step(DialogState::ViewingProfile, vec![show]))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(render(view).await)
    }
}

/// `balance`: the balance line (a screen without a button).
pub struct Balance;

#[async_trait(?Send)]
impl Route for Balance {
    fn prefix(&self) -> &'static str {
        "balance"
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(balance(view).await)
    }
}

/// Entries and jobs listed on the profile.
pub const RECENT: i64 = 5;

/// The balance line with "Top up" and "Main menu".
///
/// # Errors
/// The storage error.
pub async fn balance(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let balance = ledger::balance(view.sql, UserId(view.user_id)).await?;
    let mut text = tf(lang, "balance", &[("balance", balance.to_string())]);
    if let Some(edits) = view.in_edits(balance) {
        text.push('\n');
        text.push_str(&edits);
    }
    let mut rows = vec![vec![button(lang, "btn_topup", Button::to("topup"))]];
    rows.extend(nav(lang, Button::to(MENU)));
    Ok(Rendered::new(text, rows))
}

/// Balance, recent ledger entries and recent jobs with their status.
///
/// # Errors
/// The storage error.
pub async fn render(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let profile = qwen_core::profile::of(view.sql, UserId(view.user_id)).await?;
    let args = [
        ("balance", profile.balance.to_string()),
        ("jobs", profile.jobs.total.to_string()),
    ];
    let mut text = tf(lang, "profile", &args);
    text.push_str("\n\n");
    text.push_str(&t(lang, "profile_ledger"));
    push_lines(&mut text, lang, &ledger_lines(view).await?);
    text.push_str("\n\n");
    text.push_str(&t(lang, "profile_jobs"));
    push_lines(&mut text, lang, &job_lines(view).await?);
    let mut rows = vec![vec![button(lang, "btn_topup", Button::to("topup"))]];
    rows.extend(nav(lang, Button::to(MENU)));
    Ok(Rendered::new(text, rows))
}

async fn ledger_lines(view: &View<'_>) -> CoreResult<Vec<String>> {
    let (entries, _) = ledger::history(view.sql, UserId(view.user_id), Page::new(RECENT, 0)).await?;
    let kind = |k: &str| t(view.lang, &format!("kind_{k}")).to_owned();
    Ok(entries
        .iter()
        .map(|e| format!("{:+} — {}", e.amount, kind(e.kind.as_str())))
        .collect())
}

async fn job_lines(view: &View<'_>) -> CoreResult<Vec<String>> {
    let (recent, _) = jobs::list_for_user(view.sql, UserId(view.user_id), Page::new(RECENT, 0)).await?;
    let status = |s: JobStatus| t(view.lang, &format!("status_{s}"));
    Ok(recent
        .iter()
        .map(|j| format!("{} — {}", short_id(j.id.as_str()), status(j.status)))
        .collect())
}

fn push_lines(text: &mut String, lang: Lang, lines: &[String]) {
    if lines.is_empty() {
        text.push('\n');
        text.push_str(&t(lang, "profile_none"));
    }
    for l in lines {
        text.push('\n');
        text.push_str(l);
    }
}

/// The first 8 characters of a job id, as shown to users.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
