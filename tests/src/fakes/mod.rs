//! Faithful fakes of the outside services, each on 127.0.0.1.

pub mod comfyui;
pub mod telegram;
pub mod yookassa;

/// Runs a fake's accept loop on its own thread and current-thread runtime until `stopped`
/// fires (or its sender is dropped), so a fake works from any test style.
pub(crate) fn serve_thread<F, Fut>(
    listener: std::net::TcpListener,
    stopped: tokio::sync::oneshot::Receiver<()>,
    serve: F,
) where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        tokio::select! {
            _ = serve(listener) => {}
            _ = stopped => {}
        }
    });
}
