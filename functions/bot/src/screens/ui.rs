//! What every screen and reply is made of: the rendered text and keyboard, what rendering
//! may read, and the buttons every screen ends with. A leaf: it imports no screen.

use botapi::{InlineKeyboardButton, InlineKeyboardMarkup};
use qwen_core::contract::UserId;
use qwen_core::ports::Sql;
use qwen_core::settings::Settings;
use qwen_texts::{Lang, t};

use crate::callback::{Button, MENU};

/// A rendered screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Message text.
    pub text: String,
    /// Inline keyboard, if any.
    pub keyboard: Option<InlineKeyboardMarkup>,
}

impl Rendered {
    /// Text with a keyboard of `rows`.
    pub fn new(text: String, rows: Vec<Vec<InlineKeyboardButton>>) -> Rendered {
        let keyboard = (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows));
        Rendered { text, keyboard }
    }
}

/// What rendering may read.
pub struct View<'a> {
    /// The database.
    pub sql: &'a dyn Sql,
    /// Core settings (prices).
    pub settings: &'a Settings,
    /// The user's language.
    pub lang: Lang,
    /// The user.
    pub user_id: i64,
    /// Payment configuration (packages).
    pub pay: &'a qwen_core::payments::PaymentSettings,
}

impl View<'_> {
    /// What an edit listed at `list_price` costs this user ([`qwen_core::price::price_for`]:
    /// nothing for an admin or in unlimited mode). Every price a screen shows is this one.
    pub fn price(&self, list_price: i64) -> i64 {
        qwen_core::price::price_for(self.settings, UserId(self.user_id), list_price)
    }

    /// What one edit (a custom prompt) costs this user.
    pub fn edit_price(&self) -> i64 {
        self.price(self.settings.custom_prompt_cost)
    }

    /// "≈ N edits at P credits each" for `credits`, or nothing when edits are free.
    pub fn in_edits(&self, credits: i64) -> Option<String> {
        let price = self.edit_price();
        (price > 0).then(|| {
            let args = [
                ("edits", (credits.max(0) / price).to_string()),
                ("price", price.to_string()),
            ];
            qwen_texts::tf(self.lang, "in_edits", &args)
        })
    }
}

/// A button with the catalog text `key`.
pub fn button(lang: Lang, key: &str, target: Button) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(t(lang, key), target.data())
}

/// The "Back" and "Main menu" rows every screen ends with.
pub fn nav(lang: Lang, back: Button) -> Vec<Vec<InlineKeyboardButton>> {
    vec![
        vec![button(lang, "btn_back", back)],
        vec![button(lang, "btn_main_menu", Button::to(MENU))],
    ]
}

/// Just a "Main menu" row.
pub fn menu_only(lang: Lang) -> Vec<Vec<InlineKeyboardButton>> {
    vec![vec![button(lang, "btn_main_menu", Button::to(MENU))]]
}
