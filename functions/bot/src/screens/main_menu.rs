//! The main menu (`menu`).

use async_trait::async_trait;
use qwen_core::CoreResult;
use qwen_texts::{Lang, t};

use crate::callback::{Button, MENU};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, button};
use crate::state::DialogState;
use crate::step::{self, Step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&MainMenu];

/// `menu`: back to the main menu from anywhere.
pub struct MainMenu;

#[async_trait(?Send)]
impl Route for MainMenu {
    fn prefix(&self) -> &'static str {
        MENU
    }

    fn press(&self, state: &DialogState, _: &[String]) -> Option<Step> {
        Some(step::main_menu(state, None))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(Ok(render(view.lang)))
    }
}

/// The main menu: presets, custom prompt, profile, top-up, language, help.
pub fn render(lang: Lang) -> Rendered {
    let rows = vec![
        vec![button(lang, "btn_presets", Button::to("cats"))],
        vec![button(lang, "btn_custom", Button::to("custom"))],
        vec![
            button(lang, "btn_profile", Button::to("profile")),
            button(lang, "btn_topup", Button::to("topup")),
        ],
        vec![
            button(lang, "btn_language", Button::to("lang")),
            button(lang, "btn_help", Button::to("help")),
        ],
    ];
    Rendered::new(t(lang, "main_menu").to_owned(), rows)
}
