//! Every screen of the bot: text plus inline keyboard, in the user's language. A new screen
//! is a new file here plus one variant of [`Screen`] and one arm in [`render`].

pub mod admin;
pub mod custom;
pub mod help;
pub mod images;
pub mod job;
pub mod language;
pub mod main_menu;
pub mod presets;
pub mod profile;
pub mod topup;
pub mod wait;

use botapi::{InlineKeyboardButton, InlineKeyboardMarkup};
use qwen_core::CoreResult;
use qwen_core::ports::Sql;
use qwen_core::settings::Settings;

use crate::event::Button;
use crate::i18n::{Lang, t};

/// A screen that can be shown from a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// The main menu.
    MainMenu,
    /// Help and commands.
    Help,
    /// The balance.
    Balance,
    /// Preset categories.
    Categories,
    /// Presets of a category, one page.
    Presets {
        /// Category id.
        category: String,
        /// Page, 0-based.
        page: u32,
    },
    /// A chosen preset: "send a photo".
    PresetChosen(String),
    /// Custom prompt: "send a photo".
    CustomAskPhoto,
    /// Balance, recent ledger entries and jobs.
    Profile,
    /// Top-up: payment methods.
    TopUp,
    /// Top-up: the packages of a payment method.
    Packages(String),
    /// Language choice.
    Language,
}

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

/// Renders `screen` for the user in `view`.
///
/// # Errors
/// The core error of a lookup (e.g. a preset that no longer exists).
pub async fn render(view: &View<'_>, screen: &Screen) -> CoreResult<Rendered> {
    let lang = view.lang;
    match screen {
        Screen::MainMenu => Ok(main_menu::render(lang)),
        Screen::Help => Ok(help::render(lang)),
        Screen::Balance => profile::balance(view).await,
        Screen::Categories => presets::categories(view).await,
        Screen::Presets { category, page } => presets::list(view, category, *page).await,
        Screen::PresetChosen(id) => presets::chosen(view, id).await,
        Screen::CustomAskPhoto => Ok(custom::ask_photo(view)),
        Screen::Profile => profile::render(view).await,
        Screen::TopUp => topup::render(view).await,
        Screen::Packages(method) => topup::packages(view, method).await,
        Screen::Language => Ok(language::render(lang)),
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
        vec![button(lang, "btn_main_menu", Button::MainMenu)],
    ]
}

/// Just a "Main menu" row.
pub fn menu_only(lang: Lang) -> Vec<Vec<InlineKeyboardButton>> {
    vec![vec![button(lang, "btn_main_menu", Button::MainMenu)]]
}
