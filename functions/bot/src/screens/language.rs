//! Language choice.

use crate::event::Button;
use crate::i18n::{Lang, t};
use crate::screens::{Rendered, button, nav};

/// The language screen: Russian, English.
pub fn render(lang: Lang) -> Rendered {
    let mut rows = vec![vec![
        button(lang, "btn_lang_ru", Button::Language("ru".into())),
        button(lang, "btn_lang_en", Button::Language("en".into())),
    ]];
    rows.extend(nav(lang, Button::MainMenu));
    Rendered::new(t(lang, "language").to_owned(), rows)
}
