//! The `api` Spin component: a thin adapter that reads the request, opens the `default`
//! SQLite database and the Redis queue, and hands everything to
//! [`qwen_http::handle`] — or, under `/console`, to the operator console
//! ([`console::handle`]). No business logic lives here.

#[cfg(target_arch = "wasm32")]
mod component {
    use qwen_core::payments::PaymentSettings;
    use qwen_http::Providers;
    use qwen_http::error;
    use qwen_http::{Ctx, handle_with_payments};
    use spin_adapters::{
        SpinConfig, SpinHttp, SpinQueue, SpinSql, SystemClock, init_logging, into_response,
        once_per_instance, read_request, settings,
    };

    /// Entry point of the `api` component.
    #[spin_sdk::http_service]
    async fn handle(req: spin_sdk::http::Request) -> impl spin_sdk::http::IntoResponse {
        init_logging().await;
        into_response(answer(req).await)
    }

    async fn answer(req: spin_sdk::http::Request) -> qwen_core::ports::HttpResponse {
        let pay = once_per_instance(|| PaymentSettings::load(&SpinConfig)).await;
        let (settings, pay) = match (settings().await, pay) {
            (Ok(s), Ok(p)) => (s, p),
            (Err(e), _) | (_, Err(e)) => return error(500, "bad_configuration", &e.to_string()),
        };
        let request = match read_request(req, settings.max_body_bytes).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let sql = SpinSql::default_database();
        let queue = SpinQueue::new(&settings.redis_url);
        let ctx = Ctx {
            sql: &sql,
            queue: &queue,
            clock: &SystemClock,
            settings: &settings,
        };
        let providers = Providers {
            http: &SpinHttp,
            pay: &pay,
        };
        if console::is_console_path(&request.path) {
            return console_answer(&ctx, &providers, &request).await;
        }
        handle_with_payments(&ctx, Some(&providers), &request).await
    }

    async fn console_answer(
        ctx: &Ctx<'_>,
        providers: &Providers<'_>,
        request: &qwen_http::Request,
    ) -> qwen_core::ports::HttpResponse {
        let loaded = once_per_instance(|| console::ConsoleSettings::load(&SpinConfig)).await;
        let settings = match loaded {
            Ok(s) => s,
            Err(e) => return error(500, "bad_configuration", &e.to_string()),
        };
        let env = console::Env {
            ctx,
            providers: Some(providers),
            settings: &settings,
        };
        console::handle(&env, request).await
    }
}
