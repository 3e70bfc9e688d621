//! The `payments` Spin component: a thin adapter that reads the YooKassa notification,
//! opens the `default` SQLite database and outbound HTTP, and hands everything to
//! [`qwen_http::yookassa::handle`] (source allowlist, re-fetch, exactly-once credit).

#[cfg(target_arch = "wasm32")]
mod component {
    use qwen_core::payments::{Deps, PaymentSettings};
    use qwen_core::ports::HttpResponse;
    use qwen_http::error;
    use qwen_http::yookassa as webhook;
    use spin_adapters::{
        SpinConfig, SpinHttp, SpinSql, SystemClock, init_logging, into_response, once_per_instance,
        read_request, settings,
    };

    /// Entry point of the `payments` component.
    #[spin_sdk::http_service]
    async fn handle(req: spin_sdk::http::Request) -> impl spin_sdk::http::IntoResponse {
        init_logging().await;
        into_response(answer(req).await)
    }

    async fn answer(req: spin_sdk::http::Request) -> HttpResponse {
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
        let deps = Deps {
            sql: &sql,
            http: &SpinHttp,
            clock: &SystemClock,
            settings: &settings,
            pay: &pay,
        };
        webhook::handle(&deps, &request).await
    }
}
