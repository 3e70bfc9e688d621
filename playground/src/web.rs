//! The pages and their JSON API on 127.0.0.1: the chat page (`/`), the checkout page
//! (`/checkout?orderId=`), files (`/file/<file_id>`) and `/api/*` for the page's script.
//! Every asset is embedded in the binary.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

use crate::chat::{Hub, SimUser, Upload};

/// The biggest upload the page accepts (Telegram bots cannot fetch more than 20 MB anyway).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const CHECKOUT: &str = include_str!("../assets/checkout.html");

type Resp = Response<Full<Bytes>>;

/// Serves the pages until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, hub: Arc<Hub>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let hub = hub.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let hub = hub.clone();
                async move { Ok::<_, Infallible>(route(req, &hub).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn json_reply(status: u16, v: &Value) -> Resp {
    reply(status, "application/json", v.to_string())
}

fn error(status: u16, message: &str) -> Resp {
    json_reply(status, &json!({"ok": false, "error": message}))
}

/// The query parameters of a request.
fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn param(q: &[(String, String)], name: &str) -> Option<String> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

async fn route(req: Request<Incoming>, hub: &Hub) -> Resp {
    let path = req.uri().path().to_owned();
    let method = req.method().as_str().to_owned();
    match (method.as_str(), path.as_str()) {
        ("GET", "/") => reply(200, "text/html; charset=utf-8", INDEX),
        ("GET", "/app.js") => reply(200, "text/javascript; charset=utf-8", APP_JS),
        ("GET", "/app.css") => reply(200, "text/css; charset=utf-8", APP_CSS),
        ("GET", "/checkout") => checkout_page(hub, &query(&req)),
        ("GET", "/api/info") => info(hub),
        ("GET", "/api/chat") => chat(hub, &query(&req)),
        ("GET", p) if p.starts_with("/file/") => file(hub, &p["/file/".len()..]),
        ("POST", p) if p.starts_with("/api/") || p.starts_with("/checkout/") => {
            action(req, hub, &path).await
        }
        _ => reply(404, "text/plain; charset=utf-8", "not found"),
    }
}

fn info(hub: &Hub) -> Resp {
    let users: Vec<Value> = hub
        .users
        .iter()
        .map(|u| json!({"id": u.id, "name": u.first_name, "lang": u.lang, "admin": u.admin}))
        .collect();
    json_reply(
        200,
        &json!({"users": users, "banner": hub.banner, "edge": hub.edge_url,
            "console": hub.console.json()}),
    )
}

fn user_of<'a>(hub: &'a Hub, q: &[(String, String)]) -> Option<&'a SimUser> {
    hub.user(param(q, "user")?.parse().ok()?)
}

fn chat(hub: &Hub, q: &[(String, String)]) -> Resp {
    let Some(user) = user_of(hub, q) else {
        return error(400, "unknown user");
    };
    json_reply(
        200,
        &json!({
            "version": hub.tg.version(),
            "messages": hub.tg.chat_history(user.id),
            "toasts": hub.toasts(user.id),
            "commands": hub.tg.commands_for(&user.lang),
        }),
    )
}

fn file(hub: &Hub, file_id: &str) -> Resp {
    match hub.tg.file_bytes(file_id) {
        Some(bytes) => {
            let mime = match image::guess_format(&bytes) {
                Ok(f) => f.to_mime_type(),
                Err(_) => "application/octet-stream",
            };
            reply(200, mime, bytes)
        }
        None => reply(404, "text/plain; charset=utf-8", "no such file"),
    }
}

/// A `POST`: the body is read (up to [`UPLOAD_LIMIT`]) and handed to its action.
async fn action(req: Request<Incoming>, hub: &Hub, path: &str) -> Resp {
    let q = query(&req);
    let body = match Limited::new(req.into_body(), UPLOAD_LIMIT).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                413,
                "the file is too big for the playground (64 MB at most)",
            );
        }
    };
    let outcome = match path {
        "/checkout/pay" | "/checkout/decline" => {
            let id = param(&q, "orderId").unwrap_or_default();
            hub.checkout(&id, path.ends_with("pay")).await
        }
        _ => match user_of(hub, &q) {
            Some(user) => user_action(hub, user, path, &q, body).await,
            None => Err("unknown user".to_owned()),
        },
    };
    match outcome {
        Ok(v) => json_reply(200, &json!({"ok": true, "result": v})),
        Err(e) => error(400, &e),
    }
}

async fn user_action(
    hub: &Hub,
    user: &SimUser,
    path: &str,
    q: &[(String, String)],
    body: Bytes,
) -> Result<Value, String> {
    let form: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match path {
        "/api/send" => {
            let text = form["text"].as_str().unwrap_or("");
            if text.trim().is_empty() {
                return Err("empty message".to_owned());
            }
            hub.send_text(user, text).await?;
        }
        "/api/upload" => hub.send_file(user, upload(q, &body)).await?,
        "/api/press" => {
            let id = form["message_id"].as_i64().ok_or("no message_id")?;
            hub.press(user, id, form["data"].as_str().unwrap_or(""))
                .await?;
        }
        "/api/pay_stars" => {
            let id = form["message_id"].as_i64().ok_or("no message_id")?;
            hub.pay_stars(user, id).await?;
        }
        _ => return Err("unknown action".to_owned()),
    }
    Ok(Value::Bool(true))
}

/// The file of an `/api/upload` (name, type and album in the query, content in the body).
fn upload(q: &[(String, String)], body: &Bytes) -> Upload {
    Upload {
        name: param(q, "name").unwrap_or_default(),
        mime: param(q, "mime").unwrap_or_default(),
        album: param(q, "album").filter(|a| !a.is_empty()).map(|a| {
            let count = param(q, "count").and_then(|c| c.parse().ok()).unwrap_or(1);
            (a, count)
        }),
        bytes: body.to_vec(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn checkout_page(hub: &Hub, q: &[(String, String)]) -> Resp {
    let id = param(q, "orderId").unwrap_or_default();
    let Some(p) = hub.yk.payment(&id) else {
        return reply(404, "text/html; charset=utf-8", "<h1>No such payment</h1>");
    };
    let text = |v: &Value| escape(v.as_str().unwrap_or(""));
    let page = CHECKOUT
        .replace("{{id}}", &escape(&id))
        .replace("{{amount}}", &text(&p["amount"]["value"]))
        .replace("{{currency}}", &text(&p["amount"]["currency"]))
        .replace("{{description}}", &text(&p["description"]))
        .replace("{{method}}", &text(&p["payment_method"]["type"]))
        .replace("{{status}}", &text(&p["status"]))
        .replace("{{return_url}}", &text(&p["confirmation"]["return_url"]));
    reply(200, "text/html; charset=utf-8", page)
}
