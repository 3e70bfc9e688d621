//! Replies to an image added to the draft.

use qwen_core::drafts::Added;
use qwen_core::fleet::Wait;

use crate::event::Button;
use crate::i18n::{Lang, t, tf};
use crate::screens::presets::start_button;
use crate::screens::{Rendered, nav};
use crate::transition::Flow;

/// What the "Start" button of a preset edit shows: the price and the expected wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The price in credits.
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

fn controls(lang: Lang, flow: Flow, quote: Quote) -> Vec<Vec<botapi::InlineKeyboardButton>> {
    let mut rows = Vec::new();
    if flow == Flow::Preset {
        rows.push(vec![start_button(lang, quote.cost, quote.wait)]);
    }
    rows.extend(nav(lang, Button::MainMenu));
    rows
}
