//! The webhook: `POST /telegram/webhook`.
//!
//! Secret header (constant-time) → body limit → JSON → claim the `update_id` in SQLite (at
//! most once, also for concurrent duplicates) → dialog state → transition → effects → state.
//! A transient failure releases the claim and answers 503 so Telegram redelivers; anything
//! else answers 200 (garbage must not be retried forever).

use botapi::Update;
use qwen_core::contract::UserId;
use qwen_core::ports::HttpResponse;
use qwen_core::{drafts, setup, signing, updates, users};
use qwen_http::{self as http, Request};
use qwen_texts::Lang;

pub use crate::ctx::Ctx;
use crate::ctx::user_input;
pub use crate::effects::FLOOD_BUDGET_MS;
use crate::effects::{BotError, Performer, Target};
use crate::event::{self, Event, Incoming};
use crate::state::{self, DialogState, Loaded};
use crate::step::Effect;
use crate::transition::transition;

/// The header Telegram sends the webhook secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Claims are pruned on every update whose id is a multiple of this.
pub const PRUNE_EVERY: i64 = 256;

fn ok() -> HttpResponse {
    http::json(200, &serde_json::json!({ "ok": true }))
}

/// Handles one webhook request. Never panics; see the module docs for the statuses.
pub async fn handle(ctx: &Ctx<'_>, req: &Request) -> HttpResponse {
    if !req.method.eq_ignore_ascii_case("POST") {
        return http::error(405, "method_not_allowed", "the webhook takes POST");
    }
    let given = req.header(SECRET_HEADER).unwrap_or("");
    if ctx.bot.webhook_secret.is_empty() || !signing::secret_eq(given, &ctx.bot.webhook_secret) {
        let update_id = claimed_update_id(&req.body);
        tracing::warn!(update_id, "webhook call with a wrong secret");
        return http::error(401, "unauthorized", "wrong webhook secret");
    }
    if req.body.len() > ctx.settings.max_body_bytes {
        return http::too_large(ctx.settings.max_body_bytes);
    }
    let update: Update = match serde_json::from_slice(&req.body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, bytes = req.body.len(), "ignored an update that is not valid JSON");
            return ok();
        }
    };
    handle_update(ctx, &update).await
}

/// The `update_id` an unauthenticated body claims to carry (for the log line only; never
/// trusted), `None` when the body is no update.
fn claimed_update_id(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Claimed {
        update_id: i64,
    }
    serde_json::from_slice::<Claimed>(body)
        .ok()
        .map(|c| c.update_id)
}

/// Handles one parsed update (claim, process, release on transient failure).
pub async fn handle_update(ctx: &Ctx<'_>, update: &Update) -> HttpResponse {
    let now = ctx.clock.now_ms();
    if let Err(e) = setup::ensure_ready(ctx.sql, now).await {
        tracing::error!(error = %e, "database not ready");
        return unavailable();
    }
    match updates::claim(ctx.sql, update.update_id, now).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(update_id = update.update_id, "duplicate update ignored");
            return ok();
        }
        Err(e) => {
            tracing::warn!(update_id = update.update_id, error = %e, "could not claim update");
            return unavailable();
        }
    }
    let incoming = event::parse(update);
    let mut answer = ok();
    match process(ctx, &incoming).await {
        Ok(Some(deferred)) => answer = http::json(200, &deferred),
        Ok(None) => {}
        Err(e) if e.is_transient() => return release(ctx, &incoming, &e).await,
        Err(e) => tracing::error!(update_id = incoming.update_id, error = %e, "update failed"),
    }
    if update.update_id % PRUNE_EVERY == 0 {
        prune(ctx, now).await;
    }
    answer
}

fn unavailable() -> HttpResponse {
    http::error(
        503,
        "unavailable",
        "storage or queue unavailable; retry later",
    )
}

async fn release(ctx: &Ctx<'_>, inc: &Incoming, e: &BotError) -> HttpResponse {
    let user_id = inc.user.as_ref().map(|u| u.id);
    tracing::warn!(update_id = inc.update_id, ?user_id, error = %e, "transient failure; asking for redelivery");
    if let Err(re) = updates::release(ctx.sql, inc.update_id).await {
        tracing::error!(update_id = inc.update_id, error = %re, "could not release the claim");
    }
    unavailable()
}

async fn prune(ctx: &Ctx<'_>, now: i64) {
    if let Err(e) = updates::prune(ctx.sql, now).await {
        tracing::warn!(error = %e, "pruning update claims failed");
    }
    if let Err(e) = drafts::prune(ctx.sql, now).await {
        tracing::warn!(error = %e, "pruning drafts failed");
    }
}

/// Handles the update; returns a Bot API call to put in the webhook's answer, if any.
/// Every event, dialog or account, goes through the transition; account events (a block,
/// a payment) neither read nor write the dialog state.
async fn process(ctx: &Ctx<'_>, inc: &Incoming) -> Result<Option<serde_json::Value>, BotError> {
    let Some(from) = inc.user.as_ref() else {
        return Ok(None);
    };
    if inc.event == Event::Ignored {
        return Ok(None);
    }
    // A pre-checkout query has no chat; its user's private chat stands in.
    let Some(chat_id) = inc.chat_id.or(inc.event.is_account().then_some(from.id)) else {
        return Ok(None);
    };
    if inc.event == Event::InGroup {
        return Ok(in_group(ctx, inc, from, chat_id).await);
    }
    let (lang, new_user) = if inc.event.is_account() {
        (known_language(ctx, from).await, false)
    } else {
        load_user(ctx, from).await?
    };
    let key = state::key(chat_id);
    let stored = if inc.event.is_account() {
        Stored::untouched()
    } else {
        load_state(ctx, &key).await?
    };
    let target = Target {
        update_id: inc.update_id,
        chat_id,
        user: from.clone(),
        new_user,
        callback: inc.callback.clone(),
    };
    let mut p = Performer::new(ctx, target, lang);
    let next = converse(&mut p, &stored, &inc.event, ctx.settings.is_admin(from.id)).await?;
    if next != stored.current || stored.must_write {
        save(ctx, &key, &next, p.committed, from.id).await?;
    }
    Ok(p.webhook_answer().await)
}

/// The one answer in a group chat: a line pointing to the private chat (an alert on a
/// pressed button). Nobody is registered, no state read or written, nothing else done.
async fn in_group(
    ctx: &Ctx<'_>,
    inc: &Incoming,
    from: &botapi::User,
    chat_id: i64,
) -> Option<serde_json::Value> {
    tracing::info!(
        user_id = from.id,
        chat_id,
        "update from a group chat; pointed to the private chat"
    );
    let target = Target {
        update_id: inc.update_id,
        chat_id,
        user: from.clone(),
        new_user: false,
        callback: inc.callback.clone(),
    };
    let mut p = Performer::new(ctx, target, known_language(ctx, from).await);
    let effect = match inc.callback {
        Some(_) => Effect::Answer {
            key: Some("private_only"),
            alert: true,
        },
        None => Effect::Say {
            key: "private_only",
            menu: false,
        },
    };
    if let Err(e) = p.run(vec![effect]).await {
        tracing::warn!(user_id = from.id, error = %e, "group answer failed");
    }
    p.webhook_answer().await
}

/// The language of a user we may not know yet (account events never register anyone).
async fn known_language(ctx: &Ctx<'_>, from: &botapi::User) -> Lang {
    match users::get(ctx.sql, UserId(from.id)).await {
        Ok(u) => u.language(),
        Err(_) => users::resolve_language(None, from.language_code.as_deref()),
    }
}

/// The state found in key-value.
struct Stored {
    current: DialogState,
    reset: bool,
    must_write: bool,
}

impl Stored {
    /// For an event that does not concern the dialog: nothing read, nothing to write.
    fn untouched() -> Stored {
        Stored {
            current: DialogState::MainMenu,
            reset: false,
            must_write: false,
        }
    }
}

async fn load_state(ctx: &Ctx<'_>, key: &str) -> Result<Stored, BotError> {
    let raw = ctx.kv.get(key).await?;
    let (current, reset) = match state::decode(raw.as_deref()) {
        Loaded::State(s) => (s, false),
        Loaded::Fresh => (DialogState::MainMenu, false),
        Loaded::Reset => (DialogState::MainMenu, true),
    };
    let must_write = reset || raw.is_none();
    Ok(Stored {
        current,
        reset,
        must_write,
    })
}

/// Runs the transition's effects (after the reset notice, if any); returns the next state.
async fn converse(
    p: &mut Performer<'_>,
    stored: &Stored,
    event: &Event,
    is_admin: bool,
) -> Result<DialogState, BotError> {
    if stored.reset {
        tracing::info!("dialog state unreadable; reset to the main menu");
        p.run(vec![Effect::Say {
            key: "state_reset",
            menu: false,
        }])
        .await?;
    }
    let step = transition(&stored.current, event, is_admin);
    let mut next = step.state;
    let mut result = p.run(step.effects).await;
    // Each outcome an effect reported goes back through the transition, from the state
    // before the step; the state it decides is the one stored.
    while result.is_ok() && !p.outcomes.is_empty() {
        let outcome = p.outcomes.remove(0);
        let after = transition(&stored.current, &Event::Outcome(outcome), is_admin);
        next = after.state;
        result = p.run(after.effects).await;
    }
    p.finish(result.is_err()).await;
    match result {
        Err(e) if e.is_transient() && !p.committed => return Err(e),
        Err(e) => tracing::error!(error = %e, "effect failed"),
        Ok(()) => {}
    }
    Ok(next)
}

async fn save(
    ctx: &Ctx<'_>,
    key: &str,
    next: &DialogState,
    committed: bool,
    user_id: i64,
) -> Result<(), BotError> {
    match ctx.kv.set(key, &state::encode(next)).await {
        Ok(()) => Ok(()),
        Err(e) if committed => {
            tracing::error!(user_id, error = %e, "dialog state not saved after a committed operation");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The user's language, registering them on first contact; `true` when they are new.
async fn load_user(ctx: &Ctx<'_>, from: &botapi::User) -> Result<(Lang, bool), BotError> {
    match users::get(ctx.sql, UserId(from.id)).await {
        Ok(u) => Ok((u.language(), false)),
        Err(qwen_core::CoreError::NotFound { .. }) => {
            let input = user_input(from);
            let (profile, created) =
                qwen_core::profile::register(ctx.sql, ctx.settings, &input, ctx.clock.now_ms())
                    .await?;
            Ok((profile.user.language(), created))
        }
        Err(e) => Err(e.into()),
    }
}
