//! Profile and balance.

use qwen_core::{CoreResult, Page, jobs, ledger, users};

use crate::event::Button;
use crate::i18n::{Lang, t, tf};
use crate::screens::{Rendered, View, button, nav};

/// Entries and jobs listed on the profile.
pub const RECENT: i64 = 5;

/// The balance line with "Top up" and "Main menu".
///
/// # Errors
/// The storage error.
pub async fn balance(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let balance = ledger::balance(view.sql, view.user_id).await?;
    let text = tf(lang, "balance", &[("balance", balance.to_string())]);
    let mut rows = vec![vec![button(lang, "btn_topup", Button::TopUp)]];
    rows.extend(nav(lang, Button::MainMenu));
    Ok(Rendered::new(text, rows))
}

/// Balance, recent ledger entries and recent jobs with their status.
///
/// # Errors
/// The storage error.
pub async fn render(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let profile = users::profile(view.sql, view.user_id).await?;
    let (entries, _) = ledger::history(view.sql, view.user_id, Page::new(RECENT, 0)).await?;
    let (recent_jobs, _) =
        jobs::list_for_user(view.sql, view.user_id, Page::new(RECENT, 0)).await?;
    let mut text = tf(
        lang,
        "profile",
        &[
            ("balance", profile.balance.to_string()),
            ("jobs", profile.jobs.total.to_string()),
        ],
    );
    text.push_str("\n\n");
    text.push_str(t(lang, "profile_ledger"));
    let ledger_lines: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{:+} — {}",
                e.amount,
                t(lang, &format!("kind_{}", e.kind.as_str()))
            )
        })
        .collect();
    push_lines(&mut text, lang, &ledger_lines);
    text.push_str("\n\n");
    text.push_str(t(lang, "profile_jobs"));
    let job_lines: Vec<String> = recent_jobs
        .iter()
        .map(|j| {
            format!(
                "{} — {}",
                short_id(&j.id),
                t(lang, &format!("status_{}", j.status))
            )
        })
        .collect();
    push_lines(&mut text, lang, &job_lines);
    let mut rows = vec![vec![button(lang, "btn_topup", Button::TopUp)]];
    rows.extend(nav(lang, Button::MainMenu));
    Ok(Rendered::new(text, rows))
}

fn push_lines(text: &mut String, lang: Lang, lines: &[String]) {
    if lines.is_empty() {
        text.push('\n');
        text.push_str(t(lang, "profile_none"));
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
