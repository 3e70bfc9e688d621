//! Help: how it works and the commands.

use crate::event::Button;
use crate::i18n::{Lang, t};
use crate::screens::{Rendered, nav};

/// The help screen.
pub fn render(lang: Lang) -> Rendered {
    Rendered::new(t(lang, "help").to_owned(), nav(lang, Button::MainMenu))
}
