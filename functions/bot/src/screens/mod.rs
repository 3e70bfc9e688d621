//! Every screen of the bot: text plus inline keyboard, in the user's language.
//!
//! A screen is one file here declaring `pub const ROUTES: &[&dyn Route]` (its callback
//! prefixes, what pressing them does, what they show; see [`route::Route`]) plus one line in
//! the `registry!` below. Buttons' callback data, their parsing and the dispatch of
//! presses and screens all derive from that one registry: nothing else lists the screens.
//! Shared pieces live in leaves ([`ui`], [`route`]) that import no screen, so the screen
//! files import downward only.

pub mod route;
pub mod ui;

// Replies the effects send (no button leads to them), and the wait in words.
pub mod admin;
pub mod wait;

use qwen_core::{CoreError, CoreResult};

use crate::callback::{self, Button, Screen};
use route::Route;
use ui::{Rendered, View};

/// Declares each screen file as a module and lists its routes in [`ROUTES`].
macro_rules! registry {
    ($($file:ident),* $(,)?) => {
        $(pub mod $file;)*

        /// The routes of every screen file, in registry order.
        pub const ROUTES: &[&[&dyn Route]] = &[$($file::ROUTES),*];
    };
}

// The registry: one line per screen file.
registry! {
    main_menu,
    help,
    presets,
    custom,
    images,
    job,
    profile,
    topup,
    language,
}

/// Every registered route.
pub fn routes() -> impl Iterator<Item = &'static dyn Route> {
    ROUTES.iter().flat_map(|file| file.iter().copied())
}

/// The route of `prefix` with `arity` arguments.
pub fn find(prefix: &str, arity: usize) -> Option<&'static dyn Route> {
    routes().find(|r| r.prefix() == prefix && r.arity() == arity)
}

/// Reads `callback_data`: a registered route and its arguments, else
/// [`Button::unknown`].
pub fn parse_button(data: &str) -> Button {
    let (head, rest) = callback::split(data);
    routes()
        .filter(|r| r.prefix() == head)
        .find_map(|r| callback::args(rest, r.arity()).map(|a| Button::with(r.prefix(), a)))
        .unwrap_or_else(Button::unknown)
}

/// Renders `screen` for the user in `view`.
///
/// # Errors
/// The core error of a lookup (e.g. a preset that no longer exists); [`CoreError::NotFound`]
/// for a screen no route shows.
pub async fn render(view: &View<'_>, screen: &Screen) -> CoreResult<Rendered> {
    let shown = match find(screen.prefix, screen.args.len()) {
        Some(route) => route.render(view, &screen.args).await,
        None => None,
    };
    shown.unwrap_or_else(|| {
        Err(CoreError::not_found(
            "screen_not_found",
            format!("no screen {:?}", screen.data()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Effect;

    /// Arguments shaped like real ones: an id that may hold `:`, then numbers.
    fn example_args(arity: usize) -> Vec<String> {
        (0..arity)
            .map(|i| if i == 0 { "id:1".into() } else { "7".into() })
            .collect()
    }

    #[test]
    fn prefixes_are_unique_and_plain() {
        let all: Vec<_> = routes().map(|r| (r.prefix(), r.arity())).collect();
        for (i, (prefix, arity)) in all.iter().enumerate() {
            assert!(
                !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{prefix:?}"
            );
            assert_ne!(*prefix, callback::UNKNOWN);
            for (other, other_arity) in &all[i + 1..] {
                let clash = prefix == other && (arity == other_arity || *arity * other_arity > 0);
                assert!(!clash, "{prefix} is registered twice");
            }
        }
    }

    #[test]
    fn every_route_round_trips_its_callback_data() {
        for r in routes() {
            let b = Button::with(r.prefix(), example_args(r.arity()));
            assert_eq!(parse_button(&b.data()), b, "{}", b.data());
            assert!(b.data().len() <= 64, "{}", b.data());
        }
    }

    #[test]
    fn every_shown_screen_is_registered() {
        let mut pressable = 0;
        for r in routes() {
            for state in crate::state::examples() {
                let Some(step) = r.press(&state, &example_args(r.arity())) else {
                    continue;
                };
                pressable += 1;
                for e in step.effects {
                    if let Effect::Show(s) = e {
                        assert!(find(s.prefix, s.args.len()).is_some(), "{}", s.data());
                    }
                }
            }
        }
        assert!(pressable > 0);
    }
}
