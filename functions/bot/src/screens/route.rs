//! A route: one callback prefix with its arity, what pressing its button does and the
//! screen it shows. Every screen file declares its routes in `ROUTES`; the registry in
//! `screens/mod.rs` lists the files. A leaf below every screen.

use async_trait::async_trait;
use qwen_core::CoreResult;

use crate::screens::ui::{Rendered, View};
use crate::state::DialogState;
use crate::step::Step;

/// One callback prefix: its button's meaning and its screen.
#[async_trait(?Send)]
pub trait Route: Sync {
    /// The callback prefix (`menu`, `cat`…): unique per arity across the registry.
    fn prefix(&self) -> &'static str;

    /// How many arguments follow the prefix (see [`crate::callback::args`]).
    fn arity(&self) -> usize {
        0
    }

    /// The next state and effects when its button, with `args` (exactly
    /// [`arity`](Route::arity) of them), is pressed in `state`; `None` when no button leads
    /// here (a screen shown by a command only), which counts as a stale button.
    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let _ = (state, args);
        None
    }

    /// Its screen for `args`; `None` when the route is an action without a screen.
    ///
    /// # Errors
    /// The core error of a lookup (e.g. a preset that no longer exists).
    async fn render(&self, view: &View<'_>, args: &[String]) -> Option<CoreResult<Rendered>> {
        let _ = (view, args);
        None
    }
}
