//! The custom-prompt flow's screen (`custom`): "send a photo, then write what to change".

use async_trait::async_trait;
use qwen_core::CoreResult;

use crate::callback::{Button, MENU};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, nav};
use crate::state::DialogState;
use crate::step::{self, Step};
use qwen_texts::tf;

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Custom];

/// `custom`: starts a custom-prompt edit (an empty draft).
pub struct Custom;

#[async_trait(?Send)]
impl Route for Custom {
    fn prefix(&self) -> &'static str {
        "custom"
    }

    fn press(&self, _: &DialogState, _: &[String]) -> Option<Step> {
        let to = DialogState::AwaitingImageForCustomPrompt;
        Some(step::enter(to, Button::to(self.prefix())))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(Ok(ask_photo(view)))
    }
}

/// "Send a photo, then write what to change", with the user's price.
pub fn ask_photo(view: &View<'_>) -> Rendered {
    let cost = view.price(view.settings.custom_prompt_cost);
    let text = tf(view.lang, "custom_ask_photo", &[("cost", cost.to_string())]);
    Rendered::new(text, nav(view.lang, Button::to(MENU)))
}
