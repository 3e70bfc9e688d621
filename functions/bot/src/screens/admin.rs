//! Admin replies: statistics and balance adjustments.

use qwen_core::stats::Stats;

use qwen_texts::{Lang, t, tf};

use crate::screens::ui::{Rendered, menu_only};

/// The `/stats` answer.
pub fn stats(lang: Lang, s: &Stats) -> Rendered {
    let j = &s.jobs_today;
    let figure = |f: fn(&qwen_core::backlog::QueueBacklog) -> u64| {
        s.backlog
            .as_ref()
            .map_or_else(|| "?".to_owned(), |b| f(b).to_string())
    };
    let (waiting, pending) = (figure(|b| b.waiting), figure(|b| b.pending));
    let args = [
        ("users", s.users.to_string()),
        ("users_today", s.users_today.to_string()),
        ("jobs", j.total.to_string()),
        ("queued", j.queued.to_string()),
        ("running", j.running.to_string()),
        ("succeeded", j.succeeded.to_string()),
        ("failed", j.failed.to_string()),
        ("cancelled", j.cancelled.to_string()),
        ("queued_now", s.queued_now.to_string()),
        ("waiting", waiting),
        ("pending", pending),
        ("topups", s.topups_today.to_string()),
        ("topup_credits", s.topup_credits_today.to_string()),
    ];
    Rendered::new(tf(lang, "stats", &args), menu_only(lang))
}

/// The `/adjust` answer.
pub fn adjusted(lang: Lang, user: i64, amount: i64, balance: i64) -> Rendered {
    let args = [
        ("user", user.to_string()),
        ("amount", format!("{amount:+}")),
        ("balance", balance.to_string()),
    ];
    Rendered::new(tf(lang, "adjusted", &args), Vec::new())
}

/// A plain catalog text with a "Main menu" button.
pub fn notice(lang: Lang, key: &str) -> Rendered {
    Rendered::new(t(lang, key).to_owned(), menu_only(lang))
}
