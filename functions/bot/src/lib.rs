//! # bot
//!
//! The Telegram conversation of QwenEditBot, in webhook mode. No Spin types live here: the
//! `telegram` Spin component adapts the core's ports with `spin_sdk` and calls
//! [`webhook::handle`]; the native tests and the benchmark call the very same function.
//!
//! * [`event`]: what an [`botapi::Update`] means (command, button, text, image…).
//! * [`callback`]: the format of a button's callback data (`prefix:arg…`).
//! * [`state`]: the dialog state per chat, stored in key-value as versioned JSON.
//! * [`step`]: what a transition decides (next state, effects) and the shared steps.
//! * [`transition`]: the pure function (state, event) → (state, effects).
//! * [`effects`]: performs effects with the core's operations and the Bot API.
//! * [`ctx`]: what one request needs (the core's ports and configuration).
//! * [`screens`]: every screen (text + inline keyboard, its buttons' routes), one file
//!   each, listed in one registry.
//! * [`i18n`]: message catalogs in Russian and English.

pub mod account;
pub mod callback;
pub mod commands;
pub mod ctx;
pub mod effects;
pub mod event;
/// The message catalogs (shared with the GPU host and the payments).
pub use qwen_texts as i18n;
pub mod screens;
pub mod settings;
pub mod state;
pub mod step;
pub mod transition;
pub mod webhook;

pub use ctx::Ctx;
pub use settings::BotSettings;
pub use webhook::handle;
