//! Benchmark anchor: a spin-sdk 6 component that answers every request with `ok`, nothing
//! else. `tests/benches/spin_edge.rs` measures it next to `GET /health` to tell the cost of
//! Spin itself (a fresh instance, the HTTP exchange) from the cost of the project's code.

#[cfg(target_arch = "wasm32")]
mod component {
    /// Entry point: `200 ok`.
    #[spin_sdk::http_service]
    async fn handle(_req: spin_sdk::http::Request) -> impl spin_sdk::http::IntoResponse {
        "ok"
    }
}
