//! The conversation as a pure function: (state, event) → (new state, effects). No I/O here;
//! [`crate::effects`] performs what this decides. A pressed button goes to its route in the
//! screen registry ([`crate::screens::ROUTES`]); commands, text and images are decided here.

use crate::callback::{Button, MENU};
use crate::event::{Event, Outcome};
use crate::screens::{self, help, language, profile, topup};
use crate::state::DialogState;
use crate::step::{Effect, Flow, Step, main_menu, refuse_prompt, say, stale, step};

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

fn on_command(state: DialogState, name: &str, args: &str, is_admin: bool) -> Step {
    match name {
        "start" => step(
            DialogState::MainMenu,
            vec![
                Effect::ClearDraft,
                Effect::Greet,
                Effect::Show(Button::to(MENU)),
            ],
        ),
        "menu" => main_menu(&state, None),
        "cancel" => main_menu(&state, Some(say("cancelled", false))),
        "help" => step(state, vec![Effect::Show(help::screen())]),
        "balance" => step(state, vec![Effect::Show(profile::balance_screen())]),
        "lang" | "language" => step(
            DialogState::ChoosingLanguage,
            vec![Effect::Show(language::screen())],
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

/// A pressed button: its route decides; a button no route takes is stale.
fn on_button(state: DialogState, button: &Button) -> Step {
    let route = screens::find(button.prefix, button.args.len());
    match route.and_then(|r| r.press(&state, &button.args)) {
        Some(step) => step,
        None => stale(&state),
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
            Err(_) => step(state, vec![refuse_prompt(text)]),
        },
        DialogState::AwaitingImageForCustomPrompt => step(state, vec![say("need_image", false)]),
        DialogState::AwaitingImageForPreset { .. } => step(state, vec![say("need_image", false)]),
        DialogState::AwaitingPaymentAmount => step(state, vec![Effect::Show(topup::screen())]),
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
    use crate::callback::Screen;
    use qwen_texts::Lang;

    /// A press of the button with `data`.
    fn press(data: &str) -> Event {
        Event::Button(screens::parse_button(data))
    }

    /// The screen named `data`.
    fn screen(data: &str) -> Screen {
        screens::parse_button(data)
    }

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
                Effect::Show(screen("menu"))
            ]
        );
    }

    #[test]
    fn navigation_writes_no_draft_outside_image_states() {
        let s = transition(&DialogState::MainMenu, &press("cats"), false);
        assert_eq!(s.effects, vec![Effect::Show(screen("cats"))]);
        let from = DialogState::AwaitingCustomPrompt;
        let s = transition(&from, &press("cats"), false);
        assert_eq!(s.effects[0], Effect::ClearDraft);
        let s = transition(&DialogState::MainMenu, &press("custom"), false);
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
        let s = transition(&DialogState::MainMenu, &press("cats"), false);
        assert_eq!(s.state, DialogState::SelectPresetCategory);
        let s = transition(&s.state, &press("cat:style:1"), false);
        assert_eq!(
            s.state,
            DialogState::SelectPreset {
                category: "style".into(),
                page: 1
            }
        );
        let s = transition(&s.state, &press("preset:anime"), false);
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
        let go = transition(&s.state, &press("go"), false);
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
        let s = transition(&DialogState::MainMenu, &press("custom"), false);
        assert_eq!(s.state, DialogState::AwaitingImageForCustomPrompt);
        let early = transition(&s.state, &Event::Text("blue sky".into()), false);
        assert_eq!(early.effects, vec![say("need_image", false)]);
        let s = transition(&s.state, &image("f1"), false);
        assert_eq!(s.state, DialogState::AwaitingCustomPrompt);
        for bad in ["", "   "] {
            let r = transition(&s.state, &Event::Text(bad.into()), false);
            assert_eq!(r.state, DialogState::AwaitingCustomPrompt, "{bad:?}");
            assert_eq!(r.effects, vec![say("prompt_invalid", false)]);
        }
        let r = transition(&s.state, &Event::Text("x".repeat(501)), false);
        assert_eq!(r.state, DialogState::AwaitingCustomPrompt);
        assert_eq!(r.effects, vec![Effect::PromptTooLong { chars: 501 }]);
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
        let s = transition(&DialogState::MainMenu, &press("go"), false);
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
        let s = transition(&DialogState::ViewingProfile, &press("topup"), false);
        assert_eq!(s.state, DialogState::AwaitingPaymentAmount);
        let s = transition(&s.state, &press("paym:stars"), false);
        assert_eq!(s.effects, vec![Effect::Show(screen("paym:stars"))]);
        let s = transition(&s.state, &press("pkg:stars:100"), false);
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
        let s = transition(&s.state, &press("lang:en"), false);
        assert_eq!(
            s.effects,
            vec![Effect::SetLanguage(Lang::En), Effect::Show(screen("menu"))]
        );
    }
}
