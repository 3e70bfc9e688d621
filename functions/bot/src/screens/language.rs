//! Language choice (`lang`, also `/lang`), and the choice itself (`lang:<code>`).

use async_trait::async_trait;
use qwen_core::CoreResult;
use qwen_texts::{Lang, t};

use crate::callback::{Button, MENU, Screen};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, button, nav};
use crate::state::DialogState;
use crate::step::{Effect, Step, step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Menu, &Choose];

const PREFIX: &str = "lang";

/// The language screen.
pub fn screen() -> Screen {
    Button::to(PREFIX)
}

fn choose(code: &str) -> Button {
    Button::with(PREFIX, vec![code.to_owned()])
}

/// `lang`: the language screen.
pub struct Menu;

#[async_trait(?Send)]
impl Route for Menu {
    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn press(&self, _: &DialogState, _: &[String]) -> Option<Step> {
        let show = Effect::Show(screen());
        Some(step(DialogState::ChoosingLanguage, vec![show]))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(Ok(render(view.lang)))
    }
}

/// `lang:<code>`: stores the language and shows the main menu (an unknown code is stale).
pub struct Choose;

#[async_trait(?Send)]
impl Route for Choose {
    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn arity(&self) -> usize {
        1
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let lang = match args {
            [code] => code.parse::<Lang>().ok(),
            _ => None,
        };
        Some(match lang {
            Some(lang) => step(
                DialogState::MainMenu,
                vec![Effect::SetLanguage(lang), Effect::Show(Button::to(MENU))],
            ),
            None => crate::step::stale(state),
        })
    }
}

/// The language screen: Russian, English.
pub fn render(lang: Lang) -> Rendered {
    let mut rows = vec![vec![
        button(lang, "btn_lang_ru", choose("ru")),
        button(lang, "btn_lang_en", choose("en")),
    ]];
    rows.extend(nav(lang, Button::to(MENU)));
    Rendered::new(t(lang, "language").to_owned(), rows)
}
