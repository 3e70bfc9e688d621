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
