//! The conversation as a pure function: (state, event) → (new state, effects). No I/O here;
//! [`crate::effects`] performs what this decides.

use crate::event::{Button, Event, Outcome};
use crate::i18n::Lang;
use crate::screens::Screen;
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

fn step(state: DialogState, effects: Vec<Effect>) -> Step {
    Step { state, effects }
}

fn say(key: &'static str, menu: bool) -> Effect {
    Effect::Say { key, menu }
}

/// The next state and effects for `event` in `state`; `is_admin` unlocks `/stats` and
/// `/adjust`. The one place that decides the next state: effects only report
/// [`Event::Outcome`]s, which come back here (applied to the state before their step).
pub fn transition(state: &DialogState, event: &Event, is_admin: bool) -> Step {
    let same = state.clone();
    if event.is_account() {
        return step(same, account(event));
    }
    match event {
        Event::Command { name, args } => on_command(same, name, args, is_admin),
        Event::Button(b) => on_button(same, b),
        Event::Text(text) => on_text(same, text),
        Event::Image {
            file_id,
            media_group_id,
            message_id,
        } => on_image(same, file_id, media_group_id.clone(), *message_id),
        Event::NotImage => step(same, vec![say("not_image", false)]),
        Event::Unsupported => step(same, vec![say("unsupported", false)]),
        Event::Outcome(Outcome::NothingToShow) => step(DialogState::MainMenu, vec![]),
        Event::Outcome(Outcome::JobRefused) => step(same, vec![]),
        _ => step(same, vec![]),
    }
}

/// The effects of an account or payment event (the dialog state does not move).
fn account(event: &Event) -> Vec<Effect> {
    match event {
        Event::Blocked => vec![Effect::MarkBlocked],
        Event::Unblocked => vec![Effect::Register],
        Event::PreCheckout {
            id,
            currency,
            total_amount,
            payload,
        } => vec![Effect::AnswerPreCheckout {
            query_id: id.clone(),
            currency: currency.clone(),
            total_amount: *total_amount,
            payload: payload.clone(),
        }],
        Event::Paid {
            currency,
            total_amount,
            payload,
            charge_id,
        } => vec![Effect::CreditStars {
            currency: currency.clone(),
            total_amount: *total_amount,
            payload: payload.clone(),
            charge_id: charge_id.clone(),
        }],
        _ => vec![],
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

fn leave(from: &DialogState) -> Option<Effect> {
    holds_images(from).then_some(Effect::ClearDraft)
}

fn main_menu(from: &DialogState, extra: Option<Effect>) -> Step {
    let mut effects: Vec<Effect> = extra.into_iter().chain(leave(from)).collect();
    effects.push(Effect::Show(Screen::MainMenu));
    step(DialogState::MainMenu, effects)
}

fn on_command(state: DialogState, name: &str, args: &str, is_admin: bool) -> Step {
    match name {
        "start" => step(
            DialogState::MainMenu,
            vec![
                Effect::ClearDraft,
                Effect::Greet,
                Effect::Show(Screen::MainMenu),
            ],
        ),
        "menu" => main_menu(&state, None),
        "cancel" => main_menu(&state, Some(say("cancelled", false))),
        "help" => step(state, vec![Effect::Show(Screen::Help)]),
        "balance" => step(state, vec![Effect::Show(Screen::Balance)]),
        "lang" | "language" => step(
            DialogState::ChoosingLanguage,
            vec![Effect::Show(Screen::Language)],
        ),
        "stats" if is_admin => step(state, vec![Effect::Stats]),
        "adjust" if is_admin => step(state, vec![parse_adjust(args)]),
        _ => step(state, vec![say("unknown_command", false)]),
    }
}

/// `/adjust <telegram_id> <amount> <reason>` → [`Effect::Adjust`], else the usage text.
pub fn parse_adjust(args: &str) -> Effect {
    let mut parts = args.splitn(3, char::is_whitespace);
    let id = parts.next().and_then(|s| s.trim().parse::<i64>().ok());
    let amount = parts.next().and_then(|s| s.trim().parse::<i64>().ok());
    let reason = parts.next().map(str::trim).unwrap_or("");
    match (id, amount) {
        (Some(telegram_id), Some(amount)) if telegram_id > 0 && !reason.is_empty() => {
            Effect::Adjust {
                telegram_id,
                amount,
                reason: reason.into(),
            }
        }
        _ => say("adjust_usage", false),
    }
}

fn on_button(state: DialogState, button: &Button) -> Step {
    let left = leave(&state);
    let show = |s: DialogState, screen: Screen| {
        step(
            s,
            left.clone()
                .into_iter()
                .chain([Effect::Show(screen)])
                .collect(),
        )
    };
    let enter =
        |s: DialogState, screen: Screen| step(s, vec![Effect::ClearDraft, Effect::Show(screen)]);
    match button {
        Button::MainMenu => main_menu(&state, None),
        Button::Categories => show(DialogState::SelectPresetCategory, Screen::Categories),
        Button::Category(category, page) => show(
            DialogState::SelectPreset {
                category: category.clone(),
                page: *page,
            },
            Screen::Presets {
                category: category.clone(),
                page: *page,
            },
        ),
        Button::Preset(id) => enter(
            DialogState::AwaitingImageForPreset {
                preset_id: id.clone(),
            },
            Screen::PresetChosen(id.clone()),
        ),
        Button::Custom => enter(
            DialogState::AwaitingImageForCustomPrompt,
            Screen::CustomAskPhoto,
        ),
        Button::Go => on_go(state),
        Button::CancelJob(id) => step(state, vec![Effect::CancelJob(id.clone())]),
        Button::Profile => step(
            DialogState::ViewingProfile,
            vec![Effect::Show(Screen::Profile)],
        ),
        Button::TopUp => step(
            DialogState::AwaitingPaymentAmount,
            vec![Effect::Show(Screen::TopUp)],
        ),
        Button::PayMethod(method) => step(
            DialogState::AwaitingPaymentAmount,
            vec![Effect::Show(Screen::Packages(method.clone()))],
        ),
        Button::Package(method, package) => step(
            DialogState::AwaitingPaymentAmount,
            vec![Effect::Pay {
                method: method.clone(),
                package: *package,
            }],
        ),
        Button::Help => step(state, vec![Effect::Show(Screen::Help)]),
        Button::LanguageMenu => step(
            DialogState::ChoosingLanguage,
            vec![Effect::Show(Screen::Language)],
        ),
        Button::Language(code) => match code.parse::<Lang>().ok() {
            Some(lang) => step(
                DialogState::MainMenu,
                vec![Effect::SetLanguage(lang), Effect::Show(Screen::MainMenu)],
            ),
            None => stale(state),
        },
        Button::Unknown => stale(state),
    }
}

fn stale(state: DialogState) -> Step {
    let answer = Effect::Answer {
        key: Some("stale_button"),
        alert: false,
    };
    main_menu(&state, Some(answer))
}

fn on_go(state: DialogState) -> Step {
    match state {
        DialogState::AwaitingImageForPreset { preset_id } => step(
            DialogState::MainMenu,
            vec![Effect::CreateJob {
                preset_id: Some(preset_id),
                prompt: None,
            }],
        ),
        DialogState::AwaitingCustomPrompt | DialogState::AwaitingImageForCustomPrompt => step(
            state,
            vec![Effect::Answer {
                key: Some("custom_write_prompt"),
                alert: false,
            }],
        ),
        other => stale(other),
    }
}

fn on_text(state: DialogState, text: &str) -> Step {
    match state {
        DialogState::AwaitingCustomPrompt => match qwen_core::prompt::Prompt::parse(text) {
            Ok(prompt) => step(
                DialogState::MainMenu,
                vec![Effect::CreateJob {
                    preset_id: None,
                    prompt: Some(prompt.into_string()),
                }],
            ),
            Err(_) => step(state, vec![say("prompt_invalid", false)]),
        },
        DialogState::AwaitingImageForCustomPrompt => step(state, vec![say("need_image", false)]),
        DialogState::AwaitingImageForPreset { .. } => step(state, vec![say("need_image", false)]),
        DialogState::AwaitingPaymentAmount => step(state, vec![Effect::Show(Screen::TopUp)]),
        other => step(other, vec![say("use_menu", true)]),
    }
}

fn on_image(
    state: DialogState,
    file_id: &str,
    media_group_id: Option<String>,
    message_id: i64,
) -> Step {
    let add = |flow, preset_id| Effect::AddImage {
        file_id: file_id.to_owned(),
        media_group_id,
        message_id,
        flow,
        preset_id,
    };
    match state {
        DialogState::AwaitingImageForPreset { preset_id } => {
            let effects = vec![add(Flow::Preset, Some(preset_id.clone()))];
            step(DialogState::AwaitingImageForPreset { preset_id }, effects)
        }
        DialogState::AwaitingImageForCustomPrompt | DialogState::AwaitingCustomPrompt => step(
            DialogState::AwaitingCustomPrompt,
            vec![add(Flow::Custom, None)],
        ),
        other => step(other, vec![say("image_unexpected", true)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(name: &str, args: &str) -> Event {
        Event::Command {
            name: name.into(),
            args: args.into(),
        }
    }

    fn image(id: &str) -> Event {
        Event::Image {
            file_id: id.into(),
            media_group_id: None,
            message_id: 1,
        }
    }

    #[test]
    fn start_greets_and_shows_the_menu_from_anywhere() {
        let s = transition(&DialogState::AwaitingCustomPrompt, &cmd("start", ""), false);
        assert_eq!(s.state, DialogState::MainMenu);
        assert_eq!(
            s.effects,
            vec![
                Effect::ClearDraft,
                Effect::Greet,
                Effect::Show(Screen::MainMenu)
            ]
        );
    }

    #[test]
    fn navigation_writes_no_draft_outside_image_states() {
        let s = transition(
            &DialogState::MainMenu,
            &Event::Button(Button::Categories),
            false,
        );
        assert_eq!(s.effects, vec![Effect::Show(Screen::Categories)]);
        let from = DialogState::AwaitingCustomPrompt;
        let s = transition(&from, &Event::Button(Button::Categories), false);
        assert_eq!(s.effects[0], Effect::ClearDraft);
        let s = transition(
            &DialogState::MainMenu,
            &Event::Button(Button::Custom),
            false,
        );
        assert_eq!(
            s.effects[0],
            Effect::ClearDraft,
            "entering a flow always starts empty"
        );
    }

    #[test]
    fn cancel_leaves_any_flow() {
        let from = DialogState::AwaitingImageForPreset {
            preset_id: "anime".into(),
        };
        let s = transition(&from, &cmd("cancel", ""), false);
        assert_eq!(s.state, DialogState::MainMenu);
        assert!(s.effects.contains(&Effect::ClearDraft));
        assert!(s.effects.contains(&say("cancelled", false)));
    }

    #[test]
    fn preset_flow() {
        let s = transition(
            &DialogState::MainMenu,
            &Event::Button(Button::Categories),
            false,
        );
        assert_eq!(s.state, DialogState::SelectPresetCategory);
        let s = transition(
            &s.state,
            &Event::Button(Button::Category("style".into(), 1)),
            false,
        );
        assert_eq!(
            s.state,
            DialogState::SelectPreset {
                category: "style".into(),
                page: 1
            }
        );
        let s = transition(
            &s.state,
            &Event::Button(Button::Preset("anime".into())),
            false,
        );
        assert_eq!(
            s.state,
            DialogState::AwaitingImageForPreset {
                preset_id: "anime".into()
            }
        );
        let after_photo = transition(&s.state, &image("f1"), false);
        assert_eq!(after_photo.state, s.state);
        assert!(matches!(
            after_photo.effects[0],
            Effect::AddImage {
                flow: Flow::Preset,
                ..
            }
        ));
        let go = transition(&s.state, &Event::Button(Button::Go), false);
        assert_eq!(go.state, DialogState::MainMenu);
        assert_eq!(
            go.effects,
            vec![Effect::CreateJob {
                preset_id: Some("anime".into()),
                prompt: None
            }]
        );
    }

    #[test]
    fn custom_prompt_flow_and_validation() {
        let s = transition(
            &DialogState::MainMenu,
            &Event::Button(Button::Custom),
            false,
        );
        assert_eq!(s.state, DialogState::AwaitingImageForCustomPrompt);
        let early = transition(&s.state, &Event::Text("blue sky".into()), false);
        assert_eq!(early.effects, vec![say("need_image", false)]);
        let s = transition(&s.state, &image("f1"), false);
        assert_eq!(s.state, DialogState::AwaitingCustomPrompt);
        for bad in ["", "   ", &"x".repeat(501)] {
            let r = transition(&s.state, &Event::Text(bad.into()), false);
            assert_eq!(r.state, DialogState::AwaitingCustomPrompt, "{bad:?}");
            assert_eq!(r.effects, vec![say("prompt_invalid", false)]);
        }
        for good in ["x", &"я".repeat(500)] {
            let r = transition(&s.state, &Event::Text(good.into()), false);
            assert_eq!(r.state, DialogState::MainMenu);
            assert!(matches!(
                r.effects[0],
                Effect::CreateJob {
                    prompt: Some(_),
                    ..
                }
            ));
        }
    }

    #[test]
    fn outcomes_decide_the_state_after_a_step() {
        for before in crate::state::examples() {
            let gone = transition(&before, &Event::Outcome(Outcome::NothingToShow), false);
            assert_eq!(gone, step(DialogState::MainMenu, vec![]), "from {before:?}");
            let refused = transition(&before, &Event::Outcome(Outcome::JobRefused), false);
            assert_eq!(refused, step(before.clone(), vec![]), "stays in {before:?}");
        }
    }

    #[test]
    fn account_and_payment_events_keep_the_dialog_and_name_their_effect() {
        let pre = Event::PreCheckout {
            id: "q1".into(),
            currency: "XTR".into(),
            total_amount: 50,
            payload: "p1".into(),
        };
        let paid = Event::Paid {
            currency: "XTR".into(),
            total_amount: 50,
            payload: "p1".into(),
            charge_id: "c1".into(),
        };
        for state in crate::state::examples() {
            let s = transition(&state, &pre, false);
            assert_eq!(s.state, state);
            assert_eq!(
                s.effects,
                vec![Effect::AnswerPreCheckout {
                    query_id: "q1".into(),
                    currency: "XTR".into(),
                    total_amount: 50,
                    payload: "p1".into()
                }]
            );
            let s = transition(&state, &paid, false);
            assert_eq!(s.state, state);
            assert!(
                matches!(&s.effects[..], [Effect::CreditStars { charge_id, .. }] if charge_id == "c1")
            );
            assert_eq!(
                transition(&state, &Event::Blocked, false),
                step(state.clone(), vec![Effect::MarkBlocked])
            );
            assert_eq!(
                transition(&state, &Event::Unblocked, false),
                step(state.clone(), vec![Effect::Register])
            );
        }
    }

    #[test]
    fn admin_commands_are_hidden_from_others() {
        let user = transition(&DialogState::MainMenu, &cmd("stats", ""), false);
        assert_eq!(user.effects, vec![say("unknown_command", false)]);
        let admin = transition(&DialogState::MainMenu, &cmd("stats", ""), true);
        assert_eq!(admin.effects, vec![Effect::Stats]);
        let adj = transition(
            &DialogState::MainMenu,
            &cmd("adjust", "42 -15 refund for bad result"),
            true,
        );
        assert_eq!(
            adj.effects,
            vec![Effect::Adjust {
                telegram_id: 42,
                amount: -15,
                reason: "refund for bad result".into()
            }]
        );
        let bad = transition(&DialogState::MainMenu, &cmd("adjust", "42 ten"), true);
        assert_eq!(bad.effects, vec![say("adjust_usage", false)]);
    }

    #[test]
    fn stray_input_gets_help_not_errors() {
        let s = transition(&DialogState::MainMenu, &image("f"), false);
        assert_eq!(s.effects, vec![say("image_unexpected", true)]);
        let s = transition(&DialogState::ViewingProfile, &Event::Unsupported, false);
        assert_eq!(s.effects, vec![say("unsupported", false)]);
        let s = transition(&DialogState::MainMenu, &Event::Button(Button::Go), false);
        assert_eq!(s.state, DialogState::MainMenu);
        assert!(s.effects.contains(&Effect::Answer {
            key: Some("stale_button"),
            alert: false
        }));
        let s = transition(&DialogState::MainMenu, &cmd("frobnicate", ""), false);
        assert_eq!(s.effects, vec![say("unknown_command", false)]);
    }

    #[test]
    fn topup_method_then_package_pays() {
        let s = transition(
            &DialogState::ViewingProfile,
            &Event::Button(Button::TopUp),
            false,
        );
        assert_eq!(s.state, DialogState::AwaitingPaymentAmount);
        let s = transition(
            &s.state,
            &Event::Button(Button::PayMethod("stars".into())),
            false,
        );
        assert_eq!(
            s.effects,
            vec![Effect::Show(Screen::Packages("stars".into()))]
        );
        let s = transition(
            &s.state,
            &Event::Button(Button::Package("stars".into(), 100)),
            false,
        );
        assert_eq!(
            s.effects,
            vec![Effect::Pay {
                method: "stars".into(),
                package: 100
            }]
        );
    }

    #[test]
    fn language_choice() {
        let s = transition(&DialogState::MainMenu, &cmd("lang", ""), false);
        assert_eq!(s.state, DialogState::ChoosingLanguage);
        let s = transition(
            &s.state,
            &Event::Button(Button::Language("en".into())),
            false,
        );
        assert_eq!(
            s.effects,
            vec![
                Effect::SetLanguage(Lang::En),
                Effect::Show(Screen::MainMenu)
            ]
        );
    }
}
