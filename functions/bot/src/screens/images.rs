//! Replies to an image added to the draft, and the "Start" button (`go`) that turns the
//! draft of a preset edit into a job.

use async_trait::async_trait;
use botapi::InlineKeyboardButton;
use qwen_core::drafts::Added;
use qwen_core::fleet::Wait;
use qwen_texts::{Lang, t, tf};

use crate::callback::{Button, MENU};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, nav};
use crate::state::DialogState;
use crate::step::{Effect, Flow, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Go];

const GO: &str = "go";

/// `go`: "Start" creates the job of a preset edit; in a custom-prompt flow it asks for the
/// prompt; elsewhere the button is stale.
pub struct Go;

#[async_trait(?Send)]
impl Route for Go {
    fn prefix(&self) -> &'static str {
        GO
    }

    fn press(&self, state: &DialogState, _: &[String]) -> Option<Step> {
        Some(on_go(state))
    }
}

fn on_go(state: &DialogState) -> Step {
    match state {
        DialogState::AwaitingImageForPreset { preset_id } => step(
            DialogState::MainMenu,
            vec![Effect::CreateJob {
                preset_id: Some(preset_id.clone()),
                prompt: None,
            }],
        ),
        DialogState::AwaitingCustomPrompt | DialogState::AwaitingImageForCustomPrompt => step(
            state.clone(),
            vec![Effect::Answer {
                key: Some("custom_write_prompt"),
                alert: false,
            }],
        ),
        other => crate::step::stale(other),
    }
}

/// What the "Start" button of a preset edit shows: the price and the expected wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The user's price in credits.
    pub cost: i64,
    /// The wait of a job submitted now.
    pub wait: Wait,
}

/// The reply to an added image; `None` when there is nothing to say (a later photo of an
/// album already acknowledged). `quote` is shown on "Start" (preset flow).
pub fn added(lang: Lang, flow: Flow, added: Added, album: bool, quote: Quote) -> Option<Rendered> {
    let count = match added {
        Added::Full => {
            return Some(Rendered::new(
                t(lang, "image_limit").to_owned(),
                controls(lang, flow, quote),
            ));
        }
        Added::Stored {
            group_first: false, ..
        } if album => return None,
        Added::Stored { count, .. } | Added::Duplicate { count } => count,
    };
    let key = match (flow, album) {
        (Flow::Preset, true) => "album_received",
        (Flow::Preset, false) => "image_added",
        (Flow::Custom, true) => "album_received_custom",
        (Flow::Custom, false) => "custom_ask_prompt",
    };
    let text = tf(lang, key, &[("count", count.to_string())]);
    Some(Rendered::new(text, controls(lang, flow, quote)))
}

fn controls(lang: Lang, flow: Flow, quote: Quote) -> Vec<Vec<InlineKeyboardButton>> {
    let mut rows = Vec::new();
    if flow == Flow::Preset {
        rows.push(vec![start_button(lang, quote.cost, quote.wait)]);
    }
    rows.extend(nav(lang, Button::to(MENU)));
    rows
}

/// The "Start" button of a preset edit, with the price and the expected wait.
pub fn start_button(lang: Lang, cost: i64, wait: Wait) -> InlineKeyboardButton {
    let args = [
        ("cost", cost.to_string()),
        ("wait", crate::screens::wait::short(lang, wait)),
    ];
    let label = tf(lang, "btn_start_job", &args);
    InlineKeyboardButton::callback(label, Button::to(GO).data())
}
