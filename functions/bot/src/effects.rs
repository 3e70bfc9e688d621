//! Performs the effects of a transition with the core's operations and the Bot API.
//!
//! Replies (messages, edits, invoices) go out as direct Bot API calls, whose refusals are
//! seen: a 429 is waited out (`retry_after`) and retried while the update's flood budget
//! ([`FLOOD_BUDGET_MS`]) lasts; only past it is the refused call handed to
//! the webhook's answer as a last resort. A method in the webhook's answer is performed by
//! Telegram without telling anyone whether it was refused, so only the answer to a pressed
//! button (whose loss costs a spinner) is kept for it when it is the update's last call; a
//! kept answer goes out first when another call follows, so the user sees them in order.
//! The update is claimed before anything is sent, so a redelivery sends nothing twice.
//!
//! Bot API failures never fail an update (the core operation it reports on has happened;
//! a redelivery must not repeat it): 403 marks the user blocked, the rest is logged.
//! Core failures are either shown to the user (402, 404, 409, 422) or, when transient
//! (SQLite, Redis, key-value unreachable), returned so the webhook answers 5xx.

use botapi::{
    AnswerCallbackQuery, BotApi, BotApiError, EditMessageText, FloodBudget, InlineKeyboardButton,
    SendInvoice, SendMessage,
};
use qwen_core::contract::{ChatId, JobId, UserId};
use qwen_core::drafts::{self, Added};
use qwen_core::fleet::{self, Wait};
use qwen_core::jobs::{self, NewJob};
use qwen_core::payments::checkout::{self, NewPayment};
use qwen_core::ports::{HttpClient, KvError, SqlError};
use qwen_core::{CoreError, ledger, presets, stats, users};
use qwen_texts::{Lang, t, tf};

use crate::callback::Screen;
use crate::ctx::{Ctx, deps, user_input};
use crate::event::Outcome;
use crate::screens::ui::{Rendered, View, nav};
use crate::screens::{self, admin, images, job, topup};
use crate::step::{Effect, Flow};

/// How long one update may spend waiting out Telegram's flood control (429 `retry_after`)
/// before the reply is handed to the webhook's answer instead: well within the time
/// Telegram waits for the webhook before it redelivers the update.
pub const FLOOD_BUDGET_MS: u64 = 10_000;

/// Why an update could not be handled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BotError {
    /// Storage, queue or key-value unreachable: answer 5xx so Telegram redelivers.
    #[error("transient: {0}")]
    Transient(String),
    /// Anything else: logged, answered 200.
    #[error("{0}")]
    Permanent(String),
}

impl BotError {
    /// Whether a redelivery may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, BotError::Transient(_))
    }
}

impl From<CoreError> for BotError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Storage(SqlError::Unavailable(m)) | CoreError::QueueUnavailable(m) => {
                BotError::Transient(m)
            }
            other => BotError::Permanent(other.to_string()),
        }
    }
}

impl From<KvError> for BotError {
    fn from(e: KvError) -> Self {
        BotError::Transient(e.to_string())
    }
}

/// `req`'s parameters plus `"method": method`, the shape of a call in a webhook answer.
fn call_json<T: serde::Serialize>(method: &str, req: &T) -> Option<serde_json::Value> {
    match serde_json::to_value(req) {
        Ok(serde_json::Value::Object(mut call)) => {
            call.insert("method".into(), method.into());
            Some(serde_json::Value::Object(call))
        }
        _ => None,
    }
}

/// Who and where an update is about.
#[derive(Debug, Clone)]
pub struct Target {
    /// Update id (idempotency key of admin adjustments).
    pub update_id: i64,
    /// Chat to answer in.
    pub chat_id: i64,
    /// The Telegram user.
    pub user: botapi::User,
    /// Whether this update registered the user.
    pub new_user: bool,
    /// Callback query id and its message id.
    pub callback: Option<(String, Option<i64>)>,
}

/// Performs effects for one update.
pub struct Performer<'a> {
    pub(crate) ctx: &'a Ctx<'a>,
    pub(crate) api: BotApi<&'a dyn HttpClient>,
    pub(crate) target: Target,
    /// The user's language (changes with [`Effect::SetLanguage`]).
    pub lang: Lang,
    edit_id: Option<i64>,
    answered: bool,
    /// A money or job operation succeeded: a later failure must not cause a redelivery.
    pub committed: bool,
    /// What the effects reported back; the transition turns each into the next state.
    pub outcomes: Vec<Outcome>,
    /// A call Telegram still refused with 429 once the flood budget was spent, handed to
    /// the webhook's answer as a last resort.
    pub deferred: Option<serde_json::Value>,
    /// The answer to the pressed button, kept for the webhook's answer (its loss is harmless).
    held: Option<AnswerCallbackQuery>,
    /// What is left of this update's time for waiting out 429s.
    flood: FloodBudget,
}

impl<'a> Performer<'a> {
    /// A performer for `target`, talking to the user in `lang`.
    pub fn new(ctx: &'a Ctx<'a>, target: Target, lang: Lang) -> Self {
        let api = BotApi::new(ctx.bot.api_url.clone(), ctx.bot.bot_token.clone(), ctx.http)
            .with_timeout_ms(ctx.bot.timeout_ms);
        let edit_id = target.callback.as_ref().and_then(|(_, m)| *m);
        Performer {
            ctx,
            api,
            target,
            lang,
            edit_id,
            answered: false,
            committed: false,
            outcomes: Vec::new(),
            deferred: None,
            held: None,
            flood: FloodBudget::new(FLOOD_BUDGET_MS),
        }
    }

    /// Performs `effects` in order; stops at the first error.
    ///
    /// # Errors
    /// [`BotError::Transient`] when storage or the queue is unreachable.
    pub async fn run(&mut self, effects: Vec<Effect>) -> Result<(), BotError> {
        for effect in effects {
            self.perform(effect).await?;
        }
        Ok(())
    }

    async fn perform(&mut self, effect: Effect) -> Result<(), BotError> {
        match effect {
            Effect::Show(screen) => self.show(&screen).await,
            Effect::Say { key, menu } => self.say(key, menu).await,
            Effect::PromptTooLong { chars } => {
                let text = tf(
                    self.lang,
                    "prompt_too_long",
                    &[("chars", chars.to_string())],
                );
                self.send_new(Rendered::new(text, Vec::new())).await;
                Ok(())
            }
            Effect::Answer { key, alert } => {
                self.answer(key.map(|k| t(self.lang, k).to_owned()), alert)
                    .await;
                Ok(())
            }
            Effect::Greet => self.greet().await,
            Effect::ClearDraft => {
                Ok(drafts::clear(self.ctx.sql, ChatId(self.target.chat_id)).await?)
            }
            Effect::AddImage {
                file_id,
                media_group_id,
                message_id,
                flow,
                preset_id,
            } => {
                let image = drafts::Image {
                    file_id,
                    message_id,
                };
                self.add_image(
                    &image,
                    media_group_id.as_deref(),
                    flow,
                    preset_id.as_deref(),
                )
                .await
            }
            Effect::CreateJob { preset_id, prompt } => self.create_job(preset_id, prompt).await,
            Effect::CancelJob(id) => self.cancel_job(&id).await,
            Effect::SetLanguage(lang) => self.set_language(lang).await,
            Effect::Stats => self.stats().await,
            Effect::Adjust {
                telegram_id,
                amount,
                reason,
            } => self.adjust(telegram_id, amount, &reason).await,
            Effect::MarkBlocked => self.mark_blocked().await,
            Effect::Register => self.register().await,
            Effect::Pay { method, package } => self.pay(method, package).await,
            Effect::AnswerPreCheckout {
                query_id,
                currency,
                total_amount,
                payload,
            } => {
                let q = self.stars_payment(&currency, total_amount, &payload);
                self.answer_pre_checkout(&query_id, &q).await
            }
            Effect::CreditStars {
                currency,
                total_amount,
                payload,
                charge_id,
            } => {
                let q = self.stars_payment(&currency, total_amount, &payload);
                self.credit_stars(&q, &charge_id).await
            }
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.ctx.clock.now_ms()
    }

    fn view(&self) -> View<'a> {
        View {
            sql: self.ctx.sql,
            settings: self.ctx.settings,
            lang: self.lang,
            user_id: self.target.user.id,
            pay: self.ctx.pay,
        }
    }

    async fn show(&mut self, screen: &Screen) -> Result<(), BotError> {
        match screens::render(&self.view(), screen).await {
            Ok(r) => {
                self.deliver(r).await;
                Ok(())
            }
            Err(CoreError::NotFound { .. }) => {
                self.outcomes.push(Outcome::NothingToShow);
                self.say("preset_not_found", true).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn say(&mut self, key: &str, menu: bool) -> Result<(), BotError> {
        let r = if menu {
            admin::notice(self.lang, key)
        } else {
            Rendered::new(t(self.lang, key).to_owned(), Vec::new())
        };
        self.send_new(r).await;
        Ok(())
    }

    async fn greet(&mut self) -> Result<(), BotError> {
        let u = &self.target.user;
        let input = user_input(u);
        let (profile, created) =
            qwen_core::profile::register(self.ctx.sql, self.ctx.settings, &input, self.now())
                .await?;
        self.lang = profile.user.language();
        let fresh = created || self.target.new_user;
        let args = [
            ("name", u.first_name.clone()),
            ("bonus", profile.user.signup_bonus.to_string()),
            ("balance", profile.balance.to_string()),
        ];
        let key = if fresh {
            "greeting_new"
        } else {
            "greeting_back"
        };
        self.send_new(Rendered::new(tf(self.lang, key, &args), Vec::new()))
            .await;
        Ok(())
    }

    async fn add_image(
        &mut self,
        image: &drafts::Image,
        group: Option<&str>,
        flow: Flow,
        preset_id: Option<&str>,
    ) -> Result<(), BotError> {
        let added = drafts::add(
            self.ctx.sql,
            ChatId(self.target.chat_id),
            image,
            group,
            self.now(),
        )
        .await?;
        if let Added::Stored { count, .. } = added {
            tracing::debug!(user_id = self.target.user.id, count, "draft image added");
        }
        let quote = self.quote(flow, preset_id).await?;
        if let Some(r) = images::added(self.lang, flow, added, group.is_some(), quote) {
            self.send_new(r).await;
        }
        Ok(())
    }

    /// The price and expected wait shown on "Start" (a preset edit; nothing to read for a
    /// custom prompt, whose reply has no Start button).
    async fn quote(&self, flow: Flow, preset_id: Option<&str>) -> Result<images::Quote, BotError> {
        let (Flow::Preset, Some(id)) = (flow, preset_id) else {
            return Ok(images::Quote {
                cost: 0,
                wait: Wait::Paused,
            });
        };
        let base = presets::get(self.ctx.sql, id)
            .await
            .map(|p| p.cost)
            .unwrap_or(0);
        Ok(images::Quote {
            cost: self.price(base),
            wait: fleet::wait_for_new_job(self.ctx.sql, self.now()).await?,
        })
    }

    fn price(&self, base: i64) -> i64 {
        qwen_core::price::price_for(self.ctx.settings, UserId(self.target.user.id), base)
    }

    async fn create_job(
        &mut self,
        preset_id: Option<String>,
        prompt: Option<String>,
    ) -> Result<(), BotError> {
        let (sql, chat_id) = (self.ctx.sql, self.target.chat_id);
        let images = drafts::take(sql, ChatId(chat_id)).await?;
        if images.is_empty() {
            self.outcomes.push(Outcome::JobRefused);
            return self.say("need_image", false).await;
        }
        let input = NewJob {
            telegram_id: self.target.user.id,
            chat_id: Some(chat_id),
            preset_id,
            prompt,
            file_ids: images.iter().map(|i| i.file_id.clone()).collect(),
        };
        match jobs::create(sql, self.ctx.queue, self.ctx.settings, &input, self.now()).await {
            Ok(created) => {
                self.committed = true;
                tracing::info!(user_id = input.telegram_id, job_id = %created.job.id, "job submitted from telegram");
                let wait = fleet::wait_for(sql, created.queue_position, self.now())
                    .await
                    .ok();
                self.deliver(job::created(self.lang, &created, wait)).await;
                Ok(())
            }
            Err(e) => self.job_failed(e, &images).await,
        }
    }

    async fn job_failed(&mut self, e: CoreError, files: &[drafts::Image]) -> Result<(), BotError> {
        let restore = matches!(
            e,
            CoreError::InsufficientBalance { .. }
                | CoreError::TooManyJobs { .. }
                | CoreError::QueueUnavailable(_)
                | CoreError::Storage(_)
        );
        if restore {
            let restored =
                drafts::restore(self.ctx.sql, ChatId(self.target.chat_id), files, self.now()).await;
            if let Err(re) = restored {
                tracing::warn!(user_id = self.target.user.id, error = %re, "could not restore draft images");
            }
        }
        match e {
            CoreError::InsufficientBalance { needed, balance } => {
                self.outcomes.push(Outcome::JobRefused);
                self.deliver(job::insufficient(self.lang, needed, balance))
                    .await;
                Ok(())
            }
            CoreError::TooManyJobs { cap } => {
                self.outcomes.push(Outcome::JobRefused);
                self.deliver(job::too_many(self.lang, cap)).await;
                Ok(())
            }
            CoreError::NotFound { .. } => self.say("preset_not_found", true).await,
            CoreError::Invalid { .. } => {
                self.outcomes.push(Outcome::JobRefused);
                self.say("prompt_invalid", false).await
            }
            other => Err(other.into()),
        }
    }

    async fn cancel_job(&mut self, id: &str) -> Result<(), BotError> {
        let user_id = self.target.user.id;
        match jobs::cancel(
            self.ctx.sql,
            self.ctx.queue,
            self.ctx.settings,
            &JobId::from(id),
            jobs::Canceller::Owner(user_id),
            self.now(),
        )
        .await
        {
            Ok(job) => {
                self.committed = true;
                tracing::info!(user_id, job_id = %job.id, "job cancelled from telegram");
                self.answer(None, false).await;
                let balance = ledger::balance(self.ctx.sql, job.user_id).await?;
                self.deliver(job::cancelled(self.lang, &job, balance)).await;
                Ok(())
            }
            Err(CoreError::Conflict { .. }) => {
                self.answer(Some(t(self.lang, "job_cancel_failed").to_owned()), true)
                    .await;
                Ok(())
            }
            Err(CoreError::NotFound { .. }) => {
                self.answer(Some(t(self.lang, "stale_button").to_owned()), false)
                    .await;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn set_language(&mut self, lang: Lang) -> Result<(), BotError> {
        users::set_language(
            self.ctx.sql,
            UserId(self.target.user.id),
            lang.as_str(),
            self.now(),
        )
        .await?;
        self.lang = lang;
        self.answer(Some(t(lang, "language_set").to_owned()), false)
            .await;
        Ok(())
    }

    async fn stats(&mut self) -> Result<(), BotError> {
        let s = stats::collect(self.ctx.sql, self.ctx.queue, self.ctx.settings, self.now()).await?;
        self.send_new(admin::stats(self.lang, &s)).await;
        Ok(())
    }

    async fn adjust(
        &mut self,
        telegram_id: i64,
        amount: i64,
        reason: &str,
    ) -> Result<(), BotError> {
        let reference = format!("telegram:{}", self.target.update_id);
        let operator = self.target.user.id.to_string();
        let adjustment = ledger::Adjustment {
            user_id: UserId(telegram_id),
            amount,
            reason,
            reference: &reference,
            operator: Some(&operator),
        };
        let posted = ledger::admin_adjust(self.ctx.sql, &adjustment, self.now()).await;
        self.adjusted(telegram_id, amount, posted).await
    }

    async fn adjusted(
        &mut self,
        telegram_id: i64,
        amount: i64,
        posted: qwen_core::CoreResult<ledger::Posted>,
    ) -> Result<(), BotError> {
        match posted {
            Ok(posted) => {
                self.committed = true;
                let admin_id = self.target.user.id;
                tracing::info!(user_id = telegram_id, admin_id, amount, "balance adjusted");
                let r = admin::adjusted(self.lang, telegram_id, amount, posted.balance);
                self.send_new(r).await;
                Ok(())
            }
            Err(CoreError::InsufficientBalance { needed, balance }) => {
                self.send_new(job::insufficient(self.lang, needed, balance))
                    .await;
                Ok(())
            }
            Err(CoreError::Invalid { .. }) => self.say("adjust_usage", false).await,
            Err(CoreError::NotFound { .. }) => self.say("user_not_found", false).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a payment for a package: a "Pay" URL button (YooKassa) or a Stars invoice.
    /// The update id is the idempotency key, so a redelivery reuses the same payment.
    async fn pay(&mut self, method: String, package: i64) -> Result<(), BotError> {
        let user_id = self.target.user.id;
        let input = NewPayment {
            telegram_id: user_id,
            method,
            package: Some(package),
            idempotency_key: Some(format!("telegram:{}", self.target.update_id)),
            ..NewPayment::default()
        };
        let deps = deps(self.ctx);
        match checkout::create(&deps, &input).await {
            Ok(created) => {
                self.answer(None, false).await;
                self.payment_created(created).await;
                Ok(())
            }
            Err(
                e @ CoreError::Upstream {
                    transient: true, ..
                },
            ) => Err(BotError::Transient(e.to_string())),
            Err(CoreError::Invalid { .. }) => self.say("topup_invalid", true).await,
            Err(e @ (CoreError::Upstream { .. } | CoreError::Conflict { .. })) => {
                tracing::warn!(user_id, error = %e, "payment could not be started");
                self.say("topup_failed", true).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn payment_created(&mut self, created: checkout::Created) {
        let p = &created.payment;
        if let Some(inv) = created.invoice {
            let req = SendInvoice::stars(
                self.target.chat_id,
                inv.title,
                inv.description,
                inv.payload,
                inv.amount,
            );
            self.flush().await;
            loop {
                match self.api.send_invoice(&req).await {
                    Ok(_) => return,
                    Err(e) if self.waited_out(&e).await => {}
                    Err(e) => {
                        self.defer("sendInvoice", &req, &e);
                        return self.telegram_failed("sendInvoice", e).await;
                    }
                }
            }
        }
        let Some(url) = created.confirmation_url else {
            tracing::warn!(payment_id = %p.id, status = %p.status, "payment has no confirmation url");
            let r = admin::notice(self.lang, "topup_failed");
            return self.send_new(r).await;
        };
        let cur = p.currency;
        let args = [
            ("amount", (p.amount / cur.minor_per_unit()).to_string()),
            ("currency", cur.code().to_owned()),
            ("credits", p.credits.to_string()),
            ("bonus", p.bonus.to_string()),
        ];
        let text = tf(self.lang, "topup_pay", &args);
        let mut rows = vec![vec![InlineKeyboardButton::url(
            t(self.lang, "btn_pay"),
            url,
        )]];
        rows.extend(nav(self.lang, topup::screen()));
        let shown = self.deliver_now(Rendered::new(text, rows)).await;
        if let Some(message_id) = shown {
            let recorded = qwen_core::payments::store::record_message(
                self.ctx.sql,
                &p.id,
                ChatId(self.target.chat_id),
                message_id,
            )
            .await;
            if let Err(e) = recorded {
                tracing::warn!(payment_id = %p.id, user_id = p.user_id, error = %e, "could not record the Pay message");
            }
        }
    }

    /// Shows `r` at once (not held for the webhook's answer) and returns its message id:
    /// edits the pressed button's message the first time, else sends a new one.
    async fn deliver_now(&mut self, r: Rendered) -> Option<i64> {
        self.flush().await;
        if let Some(message_id) = self.edit_id.take() {
            let mut req = EditMessageText::new(self.target.chat_id, message_id, r.text.clone());
            if let Some(k) = r.keyboard.clone() {
                req = req.reply_markup(k);
            }
            match self.api.edit_message_text(&req).await {
                Ok(_) => return Some(message_id),
                Err(e) => {
                    tracing::debug!(user_id = self.target.user.id, error = %e, "edit failed; sending instead");
                }
            }
        }
        let mut req = SendMessage::new(self.target.chat_id, r.text);
        if let Some(k) = r.keyboard {
            req = req.reply_markup(k);
        }
        match self.api.send_message(&req).await {
            Ok(m) => Some(m.message_id),
            Err(e) => {
                self.defer("sendMessage", &req, &e);
                self.telegram_failed("sendMessage", e).await;
                None
            }
        }
    }

    /// Answers the pressed button (once per update).
    pub async fn answer(&mut self, text: Option<String>, alert: bool) {
        let Some((id, _)) = &self.target.callback else {
            return;
        };
        if self.answered {
            return;
        }
        self.answered = true;
        let mut req = AnswerCallbackQuery::new(id.clone());
        if let Some(text) = text {
            req = req.text(text, alert);
        }
        self.flush().await;
        self.held = Some(req);
    }

    async fn answer_now(&mut self, req: AnswerCallbackQuery) {
        if let Err(e) = self.api.answer_callback_query(&req).await {
            if self.deferred.is_none() {
                self.defer("answerCallbackQuery", &req, &e);
            }
            self.telegram_failed("answerCallbackQuery", e).await;
        }
    }

    /// Answers the button if nothing did yet: silently, or with an error text after `failed`.
    pub async fn finish(&mut self, failed: bool) {
        let text = failed.then(|| t(self.lang, "error_generic").to_owned());
        self.answer(text, failed).await;
    }

    /// Shows `r`: edits the pressed button's message the first time, else sends a new one.
    async fn deliver(&mut self, r: Rendered) {
        let Some(message_id) = self.edit_id.take() else {
            return self.send_new(r).await;
        };
        self.flush().await;
        let mut req = EditMessageText::new(self.target.chat_id, message_id, r.text.clone());
        if let Some(k) = r.keyboard.clone() {
            req = req.reply_markup(k);
        }
        loop {
            match self.api.edit_message_text(&req).await {
                Ok(_) => return,
                Err(e) if self.waited_out(&e).await => {}
                Err(e @ (BotApiError::Forbidden { .. } | BotApiError::TooManyRequests { .. })) => {
                    self.defer("editMessageText", &req, &e);
                    return self.telegram_failed("editMessageText", e).await;
                }
                Err(e) => {
                    tracing::debug!(user_id = self.target.user.id, error = %e, "edit failed; sending instead");
                    return self.send_new(r).await;
                }
            }
        }
    }

    /// Sends `r` as a new message, at once (after the kept button answer, if any).
    async fn send_new(&mut self, r: Rendered) {
        let mut req = SendMessage::new(self.target.chat_id, r.text);
        if let Some(k) = r.keyboard {
            req = req.reply_markup(k);
        }
        self.flush().await;
        self.send_now(req).await;
    }

    /// Sends the kept button answer now (another call follows it).
    async fn flush(&mut self) {
        if let Some(req) = self.held.take() {
            self.answer_now(req).await;
        }
    }

    /// What the webhook answers with: a call still refused with 429 after the flood budget
    /// (after sending the kept button answer), else the kept button answer, else nothing.
    pub async fn webhook_answer(&mut self) -> Option<serde_json::Value> {
        if self.deferred.is_some() {
            self.flush().await;
            return self.deferred.take();
        }
        self.held
            .take()
            .and_then(|req| call_json("answerCallbackQuery", &req))
    }

    async fn send_now(&mut self, req: SendMessage) {
        loop {
            match self.api.send_message(&req).await {
                Ok(_) => return,
                Err(e) if self.waited_out(&e).await => {}
                Err(e) => {
                    self.defer("sendMessage", &req, &e);
                    return self.telegram_failed("sendMessage", e).await;
                }
            }
        }
    }

    /// Waits out a 429 whose `retry_after` fits in the update's flood budget; `true` when
    /// the call should be made again.
    async fn waited_out(&mut self, e: &BotApiError) -> bool {
        let Some(wait) = self.flood.wait_for(e) else {
            return false;
        };
        let user_id = self.target.user.id;
        tracing::info!(
            user_id,
            wait_ms = wait.as_millis() as u64,
            "telegram flood control; waiting, then retrying"
        );
        self.ctx.sleep.sleep(wait.as_millis() as u64).await;
        true
    }

    /// Keeps `req` for the webhook's answer when Telegram asked us to slow down (429).
    fn defer<T: serde::Serialize>(&mut self, method: &str, req: &T, e: &BotApiError) {
        if !matches!(e, BotApiError::TooManyRequests { .. }) {
            return;
        }
        if let Some(call) = call_json(method, req) {
            self.deferred = Some(call);
        }
    }

    async fn telegram_failed(&mut self, method: &str, e: BotApiError) {
        let user_id = self.target.user.id;
        if e.is_forbidden() {
            tracing::info!(user_id, method, "user blocked the bot");
            if let Err(err) = users::mark_blocked(self.ctx.sql, UserId(user_id), self.now()).await {
                tracing::warn!(user_id, error = %err, "could not record the block");
            }
            return;
        }
        tracing::warn!(user_id, method, retry_after = ?e.retry_after(), error = %e, "bot api call failed");
    }
}
