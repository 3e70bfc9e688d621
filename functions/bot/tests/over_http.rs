//! The webhook served over loopback HTTP the way Spin serves the component (body read with a
//! limit first, then the same handler): 413 for oversized bodies, declared or chunked.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::{Bot, Env, SECRET, body, text};
use qwen_core::ports::HttpResponse;
use qwen_http::Request;
use testkit::server::{Handler, HandlerFactory, TestServer};

struct Webhook(Env);

#[async_trait(?Send)]
impl Handler for Webhook {
    async fn call(&self, req: Request) -> HttpResponse {
        self.0.call(&req).await
    }
}

fn serve(bot: &Bot) -> TestServer {
    let env = bot.env.clone();
    let factory: HandlerFactory = Arc::new(move || Box::new(Webhook(env.clone())));
    TestServer::start(factory, bot.env.settings.max_body_bytes).expect("server")
}

#[tokio::test]
async fn over_http_updates_work_and_big_bodies_are_refused() {
    let bot = Bot::start("bot-http").await;
    let server = serve(&bot);
    let url = format!("{}/telegram/webhook", server.url());
    let client = reqwest::Client::new();
    let post = |b: Vec<u8>| {
        client
            .post(&url)
            .header(bot::webhook::SECRET_HEADER, SECRET)
            .body(b)
            .send()
    };
    let ok = post(body(&text(1, 520, "/start"))).await.expect("post");
    assert_eq!(ok.status().as_u16(), 200);
    let answer = ok.bytes().await.expect("answer");
    assert_eq!(
        bot.tg.execute_webhook_answer(&answer).await.as_deref(),
        None,
        "the menu went out as a direct call, not in the webhook's answer"
    );
    assert!(!bot.tg.calls_of("sendMessage").is_empty());
    assert!(bot.user(520).await.is_some());
    let big = vec![b' '; bot.env.settings.max_body_bytes + 1];
    assert_eq!(
        post(big.clone()).await.expect("post").status().as_u16(),
        413
    );
    let chunks = futures::stream::iter(
        big.chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let chunked = client
        .post(&url)
        .header(bot::webhook::SECRET_HEADER, SECRET)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    // The server answers 413 as soon as the limit is passed; a client still uploading may
    // see the connection close before it reads that answer. Either way nothing was handled.
    match chunked {
        Ok(resp) => assert_eq!(resp.status().as_u16(), 413),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(
        bot.tg.calls().len(),
        2,
        "only /start's greeting and menu were sent"
    );
}
