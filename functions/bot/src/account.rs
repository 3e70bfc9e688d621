//! The effects of account and payment updates: a block or unblock, a Stars checkout to
//! answer, a completed Stars payment to credit. The transition names them like any other
//! effect ([`crate::transition`]); they never move the dialog.

use qwen_core::contract::UserId;
use qwen_core::payments::stars;
use qwen_core::users;

use qwen_texts::t;

use crate::ctx::{deps, user_input};
use crate::effects::{BotError, Performer};

/// The longest a pre-checkout answer may take (Telegram gives up after 10 s).
pub const PRE_CHECKOUT_TIMEOUT_MS: u64 = 5_000;

impl<'a> Performer<'a> {
    /// Records that the user blocked the bot.
    pub(crate) async fn mark_blocked(&mut self) -> Result<(), BotError> {
        let user_id = self.target.user.id;
        tracing::info!(user_id, "user blocked the bot");
        Ok(users::mark_blocked(self.ctx.sql, UserId(user_id), self.now()).await?)
    }

    /// Registers the user again after they unblocked the bot (no greeting).
    pub(crate) async fn register(&mut self) -> Result<(), BotError> {
        tracing::info!(user_id = self.target.user.id, "user unblocked the bot");
        let input = user_input(&self.target.user);
        users::upsert(self.ctx.sql, self.ctx.settings, &input, self.now()).await?;
        Ok(())
    }

    /// What Telegram says about this user's Stars payment.
    pub(crate) fn stars_payment<'p>(
        &self,
        currency: &'p str,
        total_amount: i64,
        payload: &'p str,
    ) -> stars::StarsPayment<'p> {
        stars::StarsPayment {
            user_id: self.target.user.id,
            currency,
            total_amount,
            payload,
        }
    }

    /// Answers a `pre_checkout_query`: accepted when our pending Stars payment matches, else
    /// refused with the reason in the user's language. Always answered (Telegram waits at
    /// most 10 s): when the call fails, the answer rides in the webhook's response.
    pub(crate) async fn answer_pre_checkout(
        &mut self,
        query_id: &str,
        q: &stars::StarsPayment<'_>,
    ) -> Result<(), BotError> {
        let req = self.pre_checkout_verdict(query_id, q).await;
        let api = botapi::BotApi::new(
            self.ctx.bot.api_url.clone(),
            self.ctx.bot.bot_token.clone(),
            self.ctx.http,
        )
        .with_timeout_ms(self.ctx.bot.timeout_ms.min(PRE_CHECKOUT_TIMEOUT_MS));
        if let Err(e) = api.answer_pre_checkout_query(&req).await {
            tracing::warn!(user_id = q.user_id, error = %e, "answerPreCheckoutQuery failed; answering in the webhook response");
            let mut call = serde_json::to_value(&req).unwrap_or_default();
            if let Some(obj) = call.as_object_mut() {
                obj.insert("method".into(), "answerPreCheckoutQuery".into());
            }
            self.deferred = Some(call);
        }
        Ok(())
    }

    async fn pre_checkout_verdict(
        &self,
        query_id: &str,
        q: &stars::StarsPayment<'_>,
    ) -> botapi::AnswerPreCheckoutQuery {
        match stars::pre_checkout(&deps(self.ctx), q, query_id).await {
            Ok(Ok(p)) => {
                tracing::info!(payment_id = %p.id, user_id = q.user_id, "pre-checkout accepted");
                botapi::AnswerPreCheckoutQuery::accept(query_id)
            }
            Ok(Err(refusal)) => {
                botapi::AnswerPreCheckoutQuery::refuse(query_id, refusal.message(self.lang))
            }
            Err(e) => {
                tracing::error!(payment_id = %q.payload, user_id = q.user_id, error = %e, "pre-checkout check failed");
                botapi::AnswerPreCheckoutQuery::refuse(query_id, t(self.lang, "error_generic"))
            }
        }
    }

    /// `message.successful_payment`: credits the Stars payment once. The core sends the
    /// "balance topped up" message itself, so nothing is sent here.
    pub(crate) async fn credit_stars(
        &mut self,
        q: &stars::StarsPayment<'_>,
        charge_id: &str,
    ) -> Result<(), BotError> {
        match stars::successful_payment(&deps(self.ctx), q, charge_id).await {
            Ok(credited) => {
                self.committed = true;
                tracing::info!(payment_id = %q.payload, user_id = q.user_id, credited, "successful_payment handled");
                Ok(())
            }
            Err(e) => {
                let e = BotError::from(e);
                if !e.is_transient() {
                    tracing::error!(payment_id = %q.payload, user_id = q.user_id, error = %e, "successful_payment not credited");
                }
                Err(e)
            }
        }
    }
}
