//! Replies about jobs: created (with its "Cancel" button, `cancel:<job id>`), too little
//! balance, cancelled.

use async_trait::async_trait;
use qwen_core::fleet::Wait;
use qwen_core::jobs::{Created, Job};
use qwen_texts::{Lang, tf};

use crate::callback::Button;
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, button, menu_only};
use crate::state::DialogState;
use crate::step::{Effect, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Cancel];

/// `cancel:<job id>`: cancels one of the user's queued jobs (the dialog stays).
pub struct Cancel;

#[async_trait(?Send)]
impl Route for Cancel {
    fn prefix(&self) -> &'static str {
        "cancel"
    }

    fn arity(&self) -> usize {
        1
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let [id] = args else {
            return Some(crate::step::stale(state));
        };
        Some(step(state.clone(), vec![Effect::CancelJob(id.clone())]))
    }
}

/// "Queued": job id, cost, balance after, how many are ahead, the expected wait (when it
/// could be read), and a "Cancel" button.
pub fn created(lang: Lang, c: &Created, wait: Option<Wait>) -> Rendered {
    let text = tf(
        lang,
        "job_created",
        &[
            ("job_id", c.job.id.to_string()),
            ("cost", c.cost.to_string()),
            ("balance", c.balance_after.to_string()),
            ("ahead", c.queue_position.to_string()),
            ("wait", crate::screens::wait::line(lang, wait)),
        ],
    );
    let text = text.trim_end().to_owned();
    let mut rows = vec![vec![button(
        lang,
        "btn_cancel_job",
        Button::with(Cancel.prefix(), vec![c.job.id.to_string()]),
    )]];
    rows.extend(menu_only(lang));
    Rendered::new(text, rows)
}

/// Balance too low: the shortfall and a "Top up" button.
pub fn insufficient(lang: Lang, needed: i64, balance: i64) -> Rendered {
    let text = tf(
        lang,
        "insufficient",
        &[
            ("needed", needed.to_string()),
            ("balance", balance.to_string()),
            ("shortfall", (needed - balance).max(0).to_string()),
        ],
    );
    let mut rows = vec![vec![button(lang, "btn_topup", Button::to("topup"))]];
    rows.extend(menu_only(lang));
    Rendered::new(text, rows)
}

/// The user has as many unfinished jobs as one may; the draft's photos are kept.
pub fn too_many(lang: Lang, cap: i64) -> Rendered {
    let text = tf(lang, "too_many_jobs", &[("cap", cap.to_string())]);
    Rendered::new(text, menu_only(lang))
}

/// The job was cancelled and refunded; `balance` is the balance after the refund.
pub fn cancelled(lang: Lang, job: &Job, balance: i64) -> Rendered {
    let text = tf(
        lang,
        "job_cancelled",
        &[
            ("job_id", job.id.to_string()),
            ("cost", job.cost.to_string()),
            ("balance", balance.to_string()),
        ],
    );
    Rendered::new(text, menu_only(lang))
}
