//! What one console request needs from the component that serves it. A leaf: every module
//! that needs it imports it from here, never from the crate root.

use qwen_http::{Ctx, Providers};

use crate::settings::ConsoleSettings;

/// What the console needs: the core's request context (its database also holds the sign-in
/// throttle and the session generations), the payment providers (refunds) and its own
/// configuration.
pub struct Env<'a> {
    /// Storage, queue, clock and core settings, as the REST API gets them.
    pub ctx: &'a Ctx<'a>,
    /// Outbound HTTP and payment settings; `None` where payments are not configured.
    pub providers: Option<&'a Providers<'a>>,
    /// Operators and the session key.
    pub settings: &'a ConsoleSettings,
}
