//! What a transition decides: the next state and the effects to perform
//! ([`crate::effects`] performs them), with the small steps every screen's button shares
//! (show a screen, enter a flow, back to the main menu, a stale button).

use qwen_texts::Lang;

use crate::callback::{Button, MENU, Screen};
use crate::state::DialogState;

/// Which flow an image belongs to (decides the reply after it is stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A preset edit: images, then "Start".
    Preset,
    /// A custom prompt: images, then the prompt text.
    Custom,
}

/// Something to do after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Show a screen (edit the pressed button's message, else send a new one).
    Show(Screen),
    /// Send a catalog text, with a "Main menu" button when `menu`.
    Say {
        /// Catalog key.
        key: &'static str,
        /// Add a "Main menu" button.
        menu: bool,
    },
    /// Refuse a prompt over the limit, saying how long it was.
    PromptTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// Answer the pressed button with a catalog text (`None`: just stop the spinner).
    Answer {
        /// Catalog key.
        key: Option<&'static str>,
        /// Show as an alert.
        alert: bool,
    },
    /// Register or refresh the user and greet them (signup bonus shown once).
    Greet,
    /// Empty the chat's draft images.
    ClearDraft,
    /// Add an image to the draft and tell the user where they are.
    AddImage {
        /// Telegram file id.
        file_id: String,
        /// Album id.
        media_group_id: Option<String>,
        /// The message's id (the draft's order).
        message_id: i64,
        /// The flow it belongs to.
        flow: Flow,
        /// The preset of a preset edit (its price is shown on "Start").
        preset_id: Option<String>,
    },
    /// Create a job from the draft images, with a preset or a prompt.
    CreateJob {
        /// Preset id.
        preset_id: Option<String>,
        /// Custom prompt.
        prompt: Option<String>,
    },
    /// Cancel one of the user's queued jobs.
    CancelJob(String),
    /// Store the user's language.
    SetLanguage(Lang),
    /// Admin: send statistics.
    Stats,
    /// Admin: adjust a balance through the ledger.
    Adjust {
        /// Whose balance.
        telegram_id: i64,
        /// Signed credits.
        amount: i64,
        /// Why.
        reason: String,
    },
    /// Record that the user blocked the bot.
    MarkBlocked,
    /// Register the user again (they unblocked the bot), without a greeting.
    Register,
    /// Check a Stars checkout against our pending payment and answer it.
    AnswerPreCheckout {
        /// `pre_checkout_query.id`.
        query_id: String,
        /// Currency (`XTR`).
        currency: String,
        /// Total in the smallest unit.
        total_amount: i64,
        /// Invoice payload (our payment id).
        payload: String,
    },
    /// Credit a completed Stars payment once.
    CreditStars {
        /// Currency (`XTR`).
        currency: String,
        /// Total in the smallest unit.
        total_amount: i64,
        /// Invoice payload (our payment id).
        payload: String,
        /// `telegram_payment_charge_id`.
        charge_id: String,
    },
    /// Create a payment for a package and send its "Pay" link or Stars invoice.
    Pay {
        /// Method id (`yookassa_card`, `yookassa_sbp`, `stars`).
        method: String,
        /// Package amount in whole roubles or stars.
        package: i64,
    },
}

/// The outcome of a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state to store.
    pub state: DialogState,
    /// What to do, in order.
    pub effects: Vec<Effect>,
}

/// A step to `state` doing `effects`.
pub fn step(state: DialogState, effects: Vec<Effect>) -> Step {
    Step { state, effects }
}

/// Sends the catalog text `key` (with a "Main menu" button when `menu`).
pub fn say(key: &'static str, menu: bool) -> Effect {
    Effect::Say { key, menu }
}

/// The refusal of a prompt that broke the length rule: an overlong one says its length.
pub fn refuse_prompt(text: &str) -> Effect {
    match text.chars().count() {
        chars if chars > qwen_core::prompt::MAX_PROMPT_CHARS => Effect::PromptTooLong { chars },
        _ => say("prompt_invalid", false),
    }
}

/// Whether draft images may exist in `state` (leaving it must clear them; elsewhere the
/// draft is empty, so navigation writes nothing).
pub fn holds_images(state: &DialogState) -> bool {
    matches!(
        state,
        DialogState::AwaitingImageForPreset { .. }
            | DialogState::AwaitingImageForCustomPrompt
            | DialogState::AwaitingCustomPrompt
    )
}

/// Clears the draft when leaving `from` holds images.
pub fn leave(from: &DialogState) -> Option<Effect> {
    holds_images(from).then_some(Effect::ClearDraft)
}

/// Back to the main menu from `from`, after `extra` (clearing the draft when it held one).
pub fn main_menu(from: &DialogState, extra: Option<Effect>) -> Step {
    let mut effects: Vec<Effect> = extra.into_iter().chain(leave(from)).collect();
    effects.push(Effect::Show(Button::to(MENU)));
    step(DialogState::MainMenu, effects)
}

/// Navigates from `from` to `to`, showing `screen` (clearing a draft left behind).
pub fn show(from: &DialogState, to: DialogState, screen: Screen) -> Step {
    let effects = leave(from).into_iter().chain([Effect::Show(screen)]);
    step(to, effects.collect())
}

/// Enters a flow that collects images: always starts with an empty draft.
pub fn enter(to: DialogState, screen: Screen) -> Step {
    step(to, vec![Effect::ClearDraft, Effect::Show(screen)])
}

/// A button that no longer means anything here: a short notice, then the main menu.
pub fn stale(state: &DialogState) -> Step {
    let answer = Effect::Answer {
        key: Some("stale_button"),
        alert: false,
    };
    main_menu(state, Some(answer))
}
