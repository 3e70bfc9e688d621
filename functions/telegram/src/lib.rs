//! The `telegram` Spin component: a thin adapter that reads the webhook request, opens the
//! `default` SQLite database and key-value store, the Redis queue and outbound HTTP, and
//! hands everything to [`bot::webhook::handle`]. No conversation logic lives here.

#[cfg(target_arch = "wasm32")]
mod component {
    use bot::{BotSettings, Ctx};
    use qwen_core::payments::PaymentSettings;
    use qwen_core::ports::HttpResponse;
    use qwen_http::error;
    use spin_adapters::{
        SpinConfig, SpinHttp, SpinKv, SpinQueue, SpinSleep, SpinSql, SystemClock, init_logging,
        into_response, once_per_instance, read_request, settings,
    };

    /// Entry point of the `telegram` component.
    #[spin_sdk::http_service]
    async fn handle(req: spin_sdk::http::Request) -> impl spin_sdk::http::IntoResponse {
        init_logging().await;
        into_response(answer(req).await)
    }

    async fn answer(req: spin_sdk::http::Request) -> HttpResponse {
        let (settings, bot, pay) = match (
            settings().await,
            once_per_instance(|| BotSettings::load(&SpinConfig)).await,
            once_per_instance(|| PaymentSettings::load(&SpinConfig)).await,
        ) {
            (Ok(s), Ok(b), Ok(p)) => (s, b, p),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return error(500, "bad_configuration", &e.to_string());
            }
        };
        let request = match read_request(req, settings.max_body_bytes).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let sql = SpinSql::default_database();
        let kv = SpinKv::default_store();
        let queue = SpinQueue::new(&settings.redis_url);
        let ctx = Ctx {
            sql: &sql,
            kv: &kv,
            queue: &queue,
            http: &SpinHttp,
            clock: &SystemClock,
            sleep: &SpinSleep,
            settings: &settings,
            bot: &bot,
            pay: &pay,
        };
        bot::handle(&ctx, &request).await
    }
}
