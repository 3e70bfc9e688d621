//! The main menu.

use crate::event::Button;
use crate::i18n::{Lang, t};
use crate::screens::{Rendered, button};

/// The main menu: presets, custom prompt, profile, top-up, language, help.
pub fn render(lang: Lang) -> Rendered {
    let rows = vec![
        vec![button(lang, "btn_presets", Button::Categories)],
        vec![button(lang, "btn_custom", Button::Custom)],
        vec![
            button(lang, "btn_profile", Button::Profile),
            button(lang, "btn_topup", Button::TopUp),
        ],
        vec![
            button(lang, "btn_language", Button::LanguageMenu),
            button(lang, "btn_help", Button::Help),
        ],
    ];
    Rendered::new(t(lang, "main_menu").to_owned(), rows)
}
