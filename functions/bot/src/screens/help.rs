//! Help: how it works and the commands (`help`, also `/help`).

use async_trait::async_trait;
use qwen_core::CoreResult;
use qwen_texts::{Lang, t};

use crate::callback::{Button, MENU, Screen};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, nav};
use crate::state::DialogState;
use crate::step::{Effect, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Help];

const PREFIX: &str = "help";

/// The help screen (the dialog stays where it was).
pub fn screen() -> Screen {
    Button::to(PREFIX)
}

/// `help`.
pub struct Help;

#[async_trait(?Send)]
impl Route for Help {
    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn press(&self, state: &DialogState, _: &[String]) -> Option<Step> {
        Some(step(state.clone(), vec![Effect::Show(screen())]))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(Ok(render(view.lang)))
    }
}

/// The help screen.
pub fn render(lang: Lang) -> Rendered {
    Rendered::new(t(lang, "help").to_owned(), nav(lang, Button::to(MENU)))
}
