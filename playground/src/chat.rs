//! The users' side of Telegram: what a Telegram client and Telegram's servers do when a
//! simulated user types, sends files, presses buttons or pays — updates delivered one at a
//! time to the webhook registered with `setWebhook` (with its secret header), and a method
//! returned in the webhook's answer executed as Telegram does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::fakes::comfyui::FakeComfy;
use testkit::fakes::telegram::FakeTelegram;
use testkit::fakes::yookassa::FakeYooKassa;

/// Telegram's limit of one text message (a client splits longer ones).
pub const TEXT_LIMIT: usize = 4096;
/// Biggest file a client sends as a compressed photo; bigger images go as files.
pub const PHOTO_LIMIT: usize = 10 * 1024 * 1024;
/// How long Telegram waits for `answerPreCheckoutQuery`.
pub const PRE_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// One simulated Telegram user.
#[derive(Debug, Clone)]
pub struct SimUser {
    /// Telegram id (also their private chat's id).
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Username.
    pub username: String,
    /// Their client's language (`language_code`).
    pub lang: String,
    /// Whether the edge lists them in `admin_ids`.
    pub admin: bool,
}

impl SimUser {
    /// A user.
    pub fn new(id: i64, first_name: &str, username: &str, lang: &str, admin: bool) -> SimUser {
        SimUser {
            id,
            first_name: first_name.to_owned(),
            username: username.to_owned(),
            lang: lang.to_owned(),
            admin,
        }
    }

    /// The Bot API `User` object.
    pub fn json(&self) -> Value {
        json!({"id": self.id, "is_bot": false, "first_name": self.first_name,
            "username": self.username, "language_code": self.lang})
    }
}

/// A file a user sends.
#[derive(Debug, Clone)]
pub struct Upload {
    /// File name as picked.
    pub name: String,
    /// MIME type the browser gave (may be empty).
    pub mime: String,
    /// Album id and its number of files, when several files were picked at once.
    pub album: Option<(String, usize)>,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Where the edge's operator console is and how to sign in to it (shown on the chat page).
#[derive(Debug, Clone)]
pub struct ConsoleLink {
    /// `http://127.0.0.1:<edge port>/console/`.
    pub url: String,
    /// The operator's name and password.
    pub access: crate::operator::ConsoleAccess,
}

impl ConsoleLink {
    /// The console at `url`, signed in to with `access`.
    pub fn new(url: &str, access: crate::operator::ConsoleAccess) -> ConsoleLink {
        ConsoleLink {
            url: url.to_owned(),
            access,
        }
    }

    /// `{url, name, password}` for the page.
    pub fn json(&self) -> Value {
        json!({"url": self.url, "name": self.access.name, "password": self.access.password})
    }
}

/// Everything the page's handlers share: the stand-ins and the users.
pub struct Hub {
    /// The Telegram stand-in.
    pub tg: FakeTelegram,
    /// The YooKassa stand-in.
    pub yk: FakeYooKassa,
    /// The ComfyUI stand-in (`None` with a real ComfyUI).
    pub comfy: Option<FakeComfy>,
    /// The edge (`spin up`).
    pub edge_url: String,
    /// The simulated users.
    pub users: Vec<SimUser>,
    /// What the page says about ComfyUI.
    pub banner: String,
    /// The operator console.
    pub console: ConsoleLink,
    http: reqwest::Client,
    deliver: tokio::sync::Mutex<()>,
    next: AtomicI64,
    callbacks: Mutex<HashMap<String, i64>>,
    albums: Mutex<HashMap<String, Vec<Value>>>,
}

impl Hub {
    /// The hub over running stand-ins and edge.
    pub fn new(
        tg: FakeTelegram,
        yk: FakeYooKassa,
        comfy: Option<FakeComfy>,
        edge_url: String,
        users: Vec<SimUser>,
        banner: String,
        console: ConsoleLink,
    ) -> Hub {
        Hub {
            tg,
            yk,
            comfy,
            edge_url,
            users,
            banner,
            console,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap_or_default(),
            deliver: tokio::sync::Mutex::new(()),
            next: AtomicI64::new(1),
            callbacks: Mutex::new(HashMap::new()),
            albums: Mutex::new(HashMap::new()),
        }
    }

    /// The user with Telegram id `id`.
    pub fn user(&self, id: i64) -> Option<&SimUser> {
        self.users.iter().find(|u| u.id == id)
    }

    fn next_id(&self) -> i64 {
        self.next.fetch_add(1, Ordering::SeqCst)
    }

    /// Delivers one update to the registered webhook, as Telegram does: one at a time, with
    /// the secret header; a method in the answer is executed. Returns the webhook's status.
    pub async fn deliver(&self, mut update: Value) -> Result<u16, String> {
        let _one_at_a_time = self.deliver.lock().await;
        update["update_id"] = json!(self.next_id());
        let hook = self.tg.webhook();
        let url = hook["url"].as_str().ok_or("no webhook is set")?.to_owned();
        let mut req = self.http.post(&url).json(&update);
        if let Some(secret) = hook["secret_token"].as_str() {
            req = req.header("x-telegram-bot-api-secret-token", secret);
        }
        let resp = req.send().await.map_err(|e| format!("webhook: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| format!("webhook: {e}"))?;
        if status == 200 {
            self.tg.execute_webhook_answer(&body).await;
        } else {
            tracing::warn!(status, "the webhook did not accept an update");
        }
        Ok(status)
    }

    /// The user sends `text` (split at [`TEXT_LIMIT`] like a client; commands get their
    /// `bot_command` entity).
    pub async fn send_text(&self, user: &SimUser, text: &str) -> Result<(), String> {
        let chars: Vec<char> = text.chars().collect();
        for chunk in chars.chunks(TEXT_LIMIT) {
            let part: String = chunk.iter().collect();
            let mut fields = json!({ "text": part });
            if part.starts_with('/') {
                let len = part
                    .split_whitespace()
                    .next()
                    .map_or(0, |c| c.encode_utf16().count());
                fields["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
            }
            let msg = self.tg.user_message(&user.json(), fields);
            self.deliver(json!({ "message": msg })).await?;
        }
        Ok(())
    }

    /// The user sends a file: a photo when it is a JPEG/PNG/WEBP up to [`PHOTO_LIMIT`] (as a
    /// client compresses it), otherwise a document ("send as file"). The files of an album
    /// are held until all arrived, then sent as consecutive messages, as a client does.
    pub async fn send_file(&self, user: &SimUser, up: Upload) -> Result<(), String> {
        let n = self.next_id();
        let mut fields = match photo_size(&up.bytes) {
            Some((w, h)) if up.bytes.len() <= PHOTO_LIMIT => self.photo(n, w, h, &up.bytes),
            _ => self.document(n, &up),
        };
        let parts = match &up.album {
            Some((album, count)) => {
                fields["media_group_id"] = json!(album);
                self.album_part(&format!("{}:{album}", user.id), *count, fields)
            }
            None => vec![fields],
        };
        let messages: Vec<Value> = parts
            .into_iter()
            .map(|f| self.tg.user_message(&user.json(), f))
            .collect();
        for msg in messages {
            self.deliver(json!({ "message": msg })).await?;
        }
        Ok(())
    }

    /// Holds a part of album `key`; all its parts once the `count`-th arrived, else none.
    fn album_part(&self, key: &str, count: usize, fields: Value) -> Vec<Value> {
        let Ok(mut albums) = self.albums.lock() else {
            return vec![fields];
        };
        let parts = albums.entry(key.to_owned()).or_default();
        parts.push(fields);
        if parts.len() < count {
            return Vec::new();
        }
        albums.remove(key).unwrap_or_default()
    }

    fn photo(&self, n: i64, w: u32, h: u32, bytes: &[u8]) -> Value {
        let id = format!("AgACAgIAAxkBAAIpg{n:06}");
        let small = |side: u32| (w.min(side), h * w.min(side) / w.max(1));
        let sizes: Vec<Value> = [("-s", small(90)), ("-m", small(320)), ("", (w, h))]
            .iter()
            .map(|(suffix, (sw, sh))| {
                let fid = format!("{id}{suffix}");
                self.tg.add_file(&fid, bytes.to_vec());
                json!({"file_id": fid, "file_unique_id": format!("AQADpg{n}{suffix}"),
                    "width": sw, "height": sh, "file_size": bytes.len()})
            })
            .collect();
        json!({ "photo": sizes })
    }

    fn document(&self, n: i64, up: &Upload) -> Value {
        let id = format!("BQACAgIAAxkBAAIpg{n:06}");
        let name = if up.name.is_empty() {
            "file".to_owned()
        } else {
            up.name.clone()
        };
        self.tg
            .add_file_at(&id, &format!("documents/{n}_{name}"), up.bytes.clone());
        let mime = if up.mime.is_empty() {
            "application/octet-stream"
        } else {
            &up.mime
        };
        json!({"document": {"file_id": id, "file_unique_id": format!("AgADpg{n}"),
            "file_name": name, "mime_type": mime, "file_size": up.bytes.len()}})
    }

    /// The user presses the inline button with `data` under message `message_id`.
    pub async fn press(&self, user: &SimUser, message_id: i64, data: &str) -> Result<(), String> {
        let message = self
            .tg
            .chat_history(user.id)
            .into_iter()
            .find(|m| m["message_id"] == message_id)
            .ok_or("that message is gone")?;
        let id = format!("{}{:08}", user.id, self.next_id());
        if let Ok(mut c) = self.callbacks.lock() {
            c.insert(id.clone(), user.id);
        }
        let query = json!({"id": id, "from": user.json(), "message": message,
            "chat_instance": format!("-{}", user.id), "data": data});
        self.deliver(json!({ "callback_query": query }))
            .await
            .map(|_| ())
    }

    /// The callback answers (`answerCallbackQuery` with a text) shown to `user`, oldest
    /// first: `{id, text, show_alert}`.
    pub fn toasts(&self, user: i64) -> Vec<Value> {
        let mine: Vec<String> = self
            .callbacks
            .lock()
            .map(|c| {
                c.iter()
                    .filter(|(_, u)| **u == user)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.tg
            .calls_of("answerCallbackQuery")
            .iter()
            .filter(|c| c.status == 200)
            .filter_map(|c| {
                let id = c.param("callback_query_id").as_str()?;
                let text = c.param("text").as_str().filter(|t| !t.is_empty())?;
                mine.iter().any(|m| m == id).then(
                    || json!({"id": id, "text": text, "show_alert": c.param("show_alert") == true}),
                )
            })
            .collect()
    }

    /// The user pays the Stars invoice `message_id`: `pre_checkout_query`, then, when the
    /// bot answers ok, the `successful_payment` message. `Err` carries what Telegram shows.
    pub async fn pay_stars(&self, user: &SimUser, message_id: i64) -> Result<(), String> {
        let invoice = self
            .tg
            .chat_history(user.id)
            .into_iter()
            .find(|m| m["message_id"] == message_id)
            .map(|m| m["invoice"].clone())
            .filter(|i| !i.is_null())
            .ok_or("no such invoice")?;
        let payload = self
            .tg
            .invoice_payload(user.id, message_id)
            .unwrap_or_default();
        let (currency, total) = (invoice["currency"].clone(), invoice["total_amount"].clone());
        let qid = format!("pcq{}{:08}", user.id, self.next_id());
        let query = json!({"id": qid, "from": user.json(), "currency": currency,
            "total_amount": total, "invoice_payload": payload});
        self.deliver(json!({ "pre_checkout_query": query })).await?;
        self.pre_checkout_answer(&qid).await?;
        let paid = json!({"successful_payment": {"currency": currency, "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": format!("stxPg{}", uuid::Uuid::new_v4().simple()),
            "provider_payment_charge_id": ""}});
        let msg = self.tg.user_message(&user.json(), paid);
        self.deliver(json!({ "message": msg })).await.map(|_| ())
    }

    /// Waits for the bot's `answerPreCheckoutQuery` on `qid`: `Ok` when it said ok.
    async fn pre_checkout_answer(&self, qid: &str) -> Result<(), String> {
        let end = Instant::now() + PRE_CHECKOUT_TIMEOUT;
        while Instant::now() < end {
            let answer = self
                .tg
                .calls_of("answerPreCheckoutQuery")
                .into_iter()
                .find(|c| c.param("pre_checkout_query_id") == qid && c.status == 200);
            if let Some(a) = answer {
                if a.param("ok") == true {
                    return Ok(());
                }
                let why = a.param("error_message").as_str().unwrap_or("declined");
                return Err(format!("Payment declined: {why}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("Payment failed: the bot did not confirm the order in time".to_owned())
    }

    /// YooKassa's side of the checkout page: the payment becomes `succeeded` (`pay`) or
    /// `canceled`, and the notification goes to the edge from 127.0.0.1 (allowlisted).
    pub async fn checkout(&self, payment_id: &str, pay: bool) -> Result<Value, String> {
        let payment = self.yk.payment(payment_id).ok_or("no such payment")?;
        if payment["status"] != "pending" {
            return Err(format!("this payment is already {}", payment["status"]));
        }
        let (status, event) = if pay {
            ("succeeded", "payment.succeeded")
        } else {
            ("canceled", "payment.canceled")
        };
        self.yk.set_status(payment_id, status);
        let body = self.yk.notification(event, payment_id);
        let url = format!("{}/webhooks/yookassa", self.edge_url);
        let code = self.yk.post_notification(&url, &body, None).await;
        tracing::info!(payment_id, event, code, "YooKassa notification sent");
        Ok(json!({"status": status, "webhook": code}))
    }
}

/// Width and height of a JPEG, PNG or WEBP (what a client would send as a photo).
fn photo_size(bytes: &[u8]) -> Option<(u32, u32)> {
    use image::ImageFormat::{Jpeg, Png, WebP};
    let format = image::guess_format(bytes).ok()?;
    if ![Jpeg, Png, WebP].contains(&format) {
        return None;
    }
    image::ImageReader::with_format(std::io::Cursor::new(bytes), format)
        .into_dimensions()
        .ok()
}
