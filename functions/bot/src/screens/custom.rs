//! The custom-prompt flow's screens.

use crate::event::Button;
use crate::i18n::tf;
use crate::screens::{Rendered, View, nav};

/// "Send a photo, then write what to change", with the price.
pub fn ask_photo(view: &View<'_>) -> Rendered {
    let cost = price(view);
    let text = tf(view.lang, "custom_ask_photo", &[("cost", cost.to_string())]);
    Rendered::new(text, nav(view.lang, Button::MainMenu))
}

/// The price of a custom-prompt edit for this user (admins and unlimited mode pay 0).
pub fn price(view: &View<'_>) -> i64 {
    let s = view.settings;
    if s.unlimited_processing || s.is_admin(view.user_id) {
        0
    } else {
        s.custom_prompt_cost
    }
}
