//! A faithful fake of the Telegram Bot API server, on loopback.
//!
//! It speaks the real wire format: `POST`/`GET` to `/bot<token>/<method>` with parameters in
//! the query string, a JSON body, `application/x-www-form-urlencoded` or
//! `multipart/form-data`; answers `{"ok":true,"result":…}` with realistic objects, and
//! errors with Telegram's exact `{"ok":false,"error_code":…,"description":…}` shapes.
//! Files registered with [`FakeTelegram::add_file`] (and photos/documents uploaded by the
//! bot) are served at `/file/bot<token>/<file_path>`.
//!
//! Every request is recorded as a [`Call`]; failures can be scripted per method (and chat)
//! with [`FakeTelegram::fail_next`].
//!
//! The server runs on its own thread with its own tokio runtime, so it works from any test
//! (sync, current-thread or multi-thread) and stops when the [`FakeTelegram`] is dropped.
//!
//! Telegram Stars: a `successful_payment` recorded with [`FakeTelegram::user_message`] (or
//! [`FakeTelegram::add_star_payment`]) becomes an incoming Star transaction whose id is the
//! charge id; `refundStarPayment` of a known charge adds the outgoing refund (same id);
//! `getStarTransactions` pages them oldest first (`offset`, `limit` 1–100, default 100;
//! [`FakeTelegram::set_star_page_size`] answers fewer per page, to exercise paging).
//!
//! Leniencies (documented, on purpose): editing or deleting a message the fake never sent
//! succeeds (tests often build updates by hand), and any `callback_query_id` is accepted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};

/// The token [`FakeTelegram::start`] expects.
pub const DEFAULT_TOKEN: &str = "123456789:AAH-fake-token-for-tests_0123456789";

/// Telegram's limit for `getFile` (20 MB): bigger files answer "file is too big".
pub const GET_FILE_LIMIT: usize = 20 * 1024 * 1024;

/// Every method the fake implements (matched case-insensitively, like Telegram).
pub const METHODS: &[&str] = &[
    "getMe",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
    "getFile",
    "sendChatAction",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "sendInvoice",
    "answerPreCheckoutQuery",
    "refundStarPayment",
    "getStarTransactions",
];

/// The pseudo-method under which file downloads are recorded.
pub const DOWNLOAD: &str = "downloadFile";

/// Text of Telegram's "message is not modified" error.
pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

/// A file part of a multipart request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// Form field name (`photo`, `document`, or the name used in `attach://`).
    pub field: String,
    /// File name from `Content-Disposition`.
    pub filename: Option<String>,
    /// `Content-Type` of the part.
    pub content_type: Option<String>,
    /// Content.
    pub bytes: Vec<u8>,
}

/// One recorded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Canonical method name (`sendPhoto`), the path's name for unknown methods, or
    /// [`DOWNLOAD`] for file downloads.
    pub method: String,
    /// Parameters from the query string and body, as JSON. Form values of non-text
    /// parameters (`chat_id`, `reply_markup`, `show_alert`…) are decoded from JSON.
    pub params: Value,
    /// Files uploaded with multipart/form-data.
    pub files: Vec<UploadedFile>,
    /// The request's `Content-Type` (empty when none).
    pub content_type: String,
    /// HTTP status the fake answered.
    pub status: u16,
}

impl Call {
    /// `params[name]`.
    pub fn param(&self, name: &str) -> &Value {
        &self.params[name]
    }

    /// Every inline keyboard button of the call, row by row flattened (`reply_markup` as
    /// JSON or, from a form, as a JSON string).
    pub fn inline_buttons(&self) -> Vec<Value> {
        let markup: Value = match &self.params["reply_markup"] {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        markup["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// `params.chat_id` as a number, when it is one.
    pub fn chat_id(&self) -> Option<i64> {
        as_i64(&self.params["chat_id"])
    }

    /// The uploaded file of form field `field`.
    pub fn file(&self, field: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == field)
    }
}

/// A scripted failure answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429 with `parameters.retry_after`.
    TooManyRequests {
        /// Seconds.
        retry_after: u64,
    },
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 400 "Bad Request: message is not modified: …".
    NotModified,
    /// 400 "Bad Request: <text>" (pass the part after "Bad Request: ").
    BadRequest(String),
    /// 400 "group chat was upgraded to a supergroup chat" with `migrate_to_chat_id`.
    Migrated(i64),
    /// 500 with a plain-text body.
    ServerError,
    /// 502 with an HTML body, as a proxy in front of Telegram answers.
    BadGateway,
    /// Waits this long, then answers normally (for client timeouts).
    Hang(Duration),
}

struct Script {
    method: String,
    chat_id: Option<i64>,
    remaining: u32,
    failure: Failure,
}

#[derive(Default)]
struct StoredMessage {
    text: Option<String>,
    reply_markup: Option<Value>,
    deleted: bool,
    /// The whole message as the Bot API last returned it (after edits).
    json: Value,
    /// `payload` of an invoice (not part of Telegram's `Invoice` object).
    payload: Option<String>,
}

struct StoredFile {
    file_unique_id: String,
    path: String,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    scripts: Vec<Script>,
    next_message_id: HashMap<i64, i64>,
    messages: HashMap<(i64, i64), StoredMessage>,
    files: HashMap<String, StoredFile>,
    paths: HashMap<String, String>,
    counter: u64,
    webhook: Map<String, Value>,
    commands: Value,
    commands_by_lang: HashMap<String, Value>,
    refunded: Vec<String>,
    /// Star transactions, oldest first (`StarTransaction` objects).
    star_transactions: Vec<Value>,
    /// At most this many transactions per `getStarTransactions` page, when set.
    star_page_size: Option<usize>,
    /// Bumped by every new, edited or deleted message.
    version: u64,
    /// Flood control per (method, chat): refused with 429 until the instant.
    floods: Vec<(String, i64, Instant)>,
}

struct Inner {
    token: String,
    state: Mutex<State>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake Bot API server; stops when dropped.
pub struct FakeTelegram {
    addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeTelegram {
    /// Starts a fake expecting [`DEFAULT_TOKEN`].
    pub async fn start() -> FakeTelegram {
        FakeTelegram::start_with_token(DEFAULT_TOKEN).await
    }

    /// Starts a fake expecting `token`, on 127.0.0.1 and a free port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start_with_token(token: &str) -> FakeTelegram {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let inner = Arc::new(Inner {
            token: token.to_owned(),
            state: Mutex::new(State::default()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let shared = inner.clone();
        std::thread::spawn(move || {
            super::serve_thread(listener, stopped, move |l| accept_loop(l, shared))
        });
        FakeTelegram {
            addr,
            inner,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:port`: the base URL to give the client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token this fake accepts.
    pub fn token(&self) -> &str {
        &self.inner.token
    }

    /// The bot's user id (the token's number before `:`).
    pub fn bot_id(&self) -> i64 {
        bot_id(&self.inner.token)
    }

    /// Registers a file for `getFile` and download; returns its `file_path`.
    pub fn add_file(&self, file_id: &str, bytes: impl Into<Vec<u8>>) -> String {
        let mut st = self.inner.lock();
        st.counter += 1;
        let path = format!("photos/file_{}.jpg", st.counter);
        insert_file(&mut st, file_id, &path, bytes.into());
        path
    }

    /// Registers a file under an explicit `file_path`.
    pub fn add_file_at(&self, file_id: &str, file_path: &str, bytes: impl Into<Vec<u8>>) {
        insert_file(&mut self.inner.lock(), file_id, file_path, bytes.into());
    }

    /// The bytes of a file the fake knows (registered or uploaded by the bot).
    pub fn file_bytes(&self, file_id: &str) -> Option<Vec<u8>> {
        self.inner
            .lock()
            .files
            .get(file_id)
            .map(|f| f.bytes.clone())
    }

    /// Every recorded call, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().calls.clone()
    }

    /// The recorded calls of `method`.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let st = self.inner.lock();
        st.calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Does what Telegram does with a webhook's answer: when `body` is a JSON object with a
    /// `method`, that method is called with the rest of the object as its parameters (its
    /// result goes nowhere, as with Telegram). Returns the method called, if any.
    pub async fn execute_webhook_answer(&self, body: &[u8]) -> Option<String> {
        let Ok(Value::Object(mut call)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        let method = call.remove("method")?.as_str()?.to_owned();
        let url = format!("{}/bot{}/{method}", self.base_url(), self.token());
        let _ = reqwest::Client::new()
            .post(url)
            .json(&Value::Object(call))
            .send()
            .await;
        Some(method)
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.inner.lock().calls.clear();
    }

    /// Waits until at least `n` calls of `method` were recorded and returns them.
    ///
    /// # Panics
    /// After `timeout`, listing the calls seen.
    pub async fn wait_for_calls(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls_of(method);
            if calls.len() >= n {
                return calls;
            }
            if Instant::now() >= deadline {
                let seen: Vec<String> = self.calls().iter().map(|c| c.method.clone()).collect();
                panic!(
                    "waited {timeout:?} for {n} {method} call(s), got {}; all calls: {seen:?}",
                    calls.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The next `times` calls of `method` answer `failure`.
    pub fn fail_next(&self, method: &str, times: u32, failure: Failure) {
        self.script(method, None, times, failure);
    }

    /// Flood control as Telegram applies it: for the next `retry_after` seconds every call
    /// of `method` for `chat_id` answers 429 "Too Many Requests: retry after N" with
    /// `parameters.retry_after` = the seconds still left (rounded up), so a client that
    /// retries before the time is refused again; afterwards calls succeed.
    pub fn flood_chat(&self, method: &str, chat_id: i64, retry_after: u64) {
        let until = Instant::now() + Duration::from_secs(retry_after);
        self.inner
            .lock()
            .floods
            .push((method.to_owned(), chat_id, until));
    }

    /// The next `times` calls of `method` for `chat_id` answer `failure`.
    pub fn fail_next_for_chat(&self, method: &str, chat_id: i64, times: u32, failure: Failure) {
        self.script(method, Some(chat_id), times, failure);
    }

    fn script(&self, method: &str, chat_id: Option<i64>, times: u32, failure: Failure) {
        self.inner.lock().scripts.push(Script {
            method: canonical(method).unwrap_or(method).to_owned(),
            chat_id,
            remaining: times,
            failure,
        });
    }

    /// Current text of a message the fake sent (after edits); `None` if unknown or deleted.
    pub fn message_text(&self, chat_id: i64, message_id: i64) -> Option<String> {
        let st = self.inner.lock();
        let m = st.messages.get(&(chat_id, message_id))?;
        if m.deleted { None } else { m.text.clone() }
    }

    /// Whether the bot deleted that message.
    pub fn is_deleted(&self, chat_id: i64, message_id: i64) -> bool {
        let st = self.inner.lock();
        st.messages
            .get(&(chat_id, message_id))
            .is_some_and(|m| m.deleted)
    }

    /// The webhook settings last given to `setWebhook` (empty object when none).
    pub fn webhook(&self) -> Value {
        Value::Object(self.inner.lock().webhook.clone())
    }

    /// Records a message that user `from` (a Telegram `User` object) sent in their private
    /// chat with the bot, numbered in the same sequence as the bot's messages there, and
    /// returns it (ready for an update's `message`). `fields` are merged in (`text`,
    /// `photo`, `document`, `successful_payment`…).
    pub fn user_message(&self, from: &Value, fields: Value) -> Value {
        let chat_id = as_i64(&from["id"]).unwrap_or(0);
        let chat = json!({ "id": chat_id, "type": "private",
            "first_name": from["first_name"], "username": from["username"] });
        let mut st = self.inner.lock();
        let next = st.next_message_id.entry(chat_id).or_insert(0);
        *next += 1;
        let id = *next;
        let mut msg = json!({ "message_id": id, "from": from, "chat": chat, "date": now() });
        merge(&mut msg, fields);
        if let Some(paid) = msg
            .get("successful_payment")
            .filter(|p| p["currency"] == "XTR")
        {
            let tx = incoming_star(from, paid, now());
            st.star_transactions.push(tx);
        }
        let stored = StoredMessage {
            text: msg["text"].as_str().map(str::to_owned),
            json: msg.clone(),
            ..StoredMessage::default()
        };
        st.messages.insert((chat_id, id), stored);
        st.version += 1;
        msg
    }

    /// Records an incoming Stars payment of `amount` stars by `user` (a `User` object) for the
    /// invoice `payload`, with charge id `charge_id`, at Unix time `date` (seconds), as
    /// Telegram lists it without the bot having been told (a lost `successful_payment`).
    pub fn add_star_payment(
        &self,
        user: &Value,
        amount: i64,
        payload: &str,
        charge_id: &str,
        date: i64,
    ) {
        let paid = json!({"total_amount": amount, "invoice_payload": payload, "telegram_payment_charge_id": charge_id});
        let tx = incoming_star(user, &paid, date);
        let mut st = self.inner.lock();
        st.star_transactions.push(tx);
        st.star_transactions
            .sort_by_key(|t| t["date"].as_i64().unwrap_or(0));
    }

    /// Every Star transaction, oldest first.
    pub fn star_transactions(&self) -> Vec<Value> {
        self.inner.lock().star_transactions.clone()
    }

    /// `getStarTransactions` answers at most `n` transactions per call (Telegram: 100).
    pub fn set_star_page_size(&self, n: usize) {
        self.inner.lock().star_page_size = Some(n.max(1));
    }

    /// Every message of the private chat `chat_id` still shown (not deleted), oldest first,
    /// as last sent or edited: the bot's and those recorded by [`FakeTelegram::user_message`].
    pub fn chat_history(&self, chat_id: i64) -> Vec<Value> {
        let st = self.inner.lock();
        let mut shown: Vec<(i64, Value)> = st
            .messages
            .iter()
            .filter(|((chat, _), m)| *chat == chat_id && !m.deleted && !m.json.is_null())
            .map(|((_, id), m)| (*id, m.json.clone()))
            .collect();
        shown.sort_by_key(|(id, _)| *id);
        shown.into_iter().map(|(_, m)| m).collect()
    }

    /// A counter bumped by every new, edited or deleted message (to poll for changes).
    pub fn version(&self) -> u64 {
        self.inner.lock().version
    }

    /// The `payload` of the invoice the bot sent as message `message_id` in `chat_id`.
    pub fn invoice_payload(&self, chat_id: i64, message_id: i64) -> Option<String> {
        let st = self.inner.lock();
        st.messages.get(&(chat_id, message_id))?.payload.clone()
    }

    /// The command menu for users whose client speaks `lang`, as Telegram picks it: the
    /// list set for that language, else the default list (empty array when none).
    pub fn commands_for(&self, lang: &str) -> Value {
        let st = self.inner.lock();
        st.commands_by_lang
            .get(lang)
            .cloned()
            .or_else(|| (!st.commands.is_null()).then(|| st.commands.clone()))
            .unwrap_or_else(|| json!([]))
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn insert_file(st: &mut State, file_id: &str, path: &str, bytes: Vec<u8>) {
    st.counter += 1;
    let file = StoredFile {
        file_unique_id: format!("AQAD{:06}", st.counter),
        path: path.to_owned(),
        bytes,
    };
    st.paths.insert(path.to_owned(), file_id.to_owned());
    st.files.insert(file_id.to_owned(), file);
}

async fn accept_loop(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let inner = inner.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let inner = inner.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(req, &inner).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

// ---------------------------------------------------------------------------------------
// Request handling
// ---------------------------------------------------------------------------------------

type Answer = Response<Full<Bytes>>;

/// A method's error answer: (status, description, parameters).
type Fail = (u16, String, Option<Value>);

/// What a method handler answers: the result, or the error.
type Outcome = Result<Value, Fail>;

async fn handle(req: Request<Incoming>, inner: &Inner) -> Answer {
    let path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(rest, inner);
    }
    let Some((token, method)) = path.strip_prefix("/bot").and_then(|r| r.split_once('/')) else {
        return error_answer(404, "Not Found", None);
    };
    if token != inner.token {
        return error_answer(401, "Unauthorized", None);
    }
    let content_type = header(&req, "content-type");
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return error_answer(400, "Bad Request: can't read request body", None),
    };
    let (params, files) = match parse_params(&query, &content_type, body).await {
        Ok(p) => p,
        Err(e) => return error_answer(400, &format!("Bad Request: {e}"), None),
    };
    let method = canonical(method).map(str::to_owned);
    respond(inner, method, params, files, content_type).await
}

async fn respond(
    inner: &Inner,
    method: Option<String>,
    params: Value,
    files: Vec<UploadedFile>,
    content_type: String,
) -> Answer {
    let Some(method) = method else {
        let call = Call {
            method: "unknown".into(),
            params,
            files,
            content_type,
            status: 404,
        };
        inner.lock().calls.push(call);
        return error_answer(404, "Not Found", None);
    };
    let failure = take_script(inner, &method, &params);
    if let Some(Failure::Hang(d)) = &failure {
        tokio::time::sleep(*d).await;
    }
    let answer = match failure.as_ref().and_then(failure_answer) {
        Some(a) => a,
        None => outcome_answer(run_method(inner, &method, &params, &files)),
    };
    let call = Call {
        method,
        params,
        files,
        content_type,
        status: answer.status().as_u16(),
    };
    inner.lock().calls.push(call);
    answer
}

fn take_script(inner: &Inner, method: &str, params: &Value) -> Option<Failure> {
    let chat = as_i64(&params["chat_id"]);
    let mut st = inner.lock();
    let now = Instant::now();
    st.floods.retain(|(_, _, until)| *until > now);
    let flooded = st
        .floods
        .iter()
        .find(|(m, c, _)| m == method && Some(*c) == chat)
        .map(|(_, _, until)| until.duration_since(now).as_millis().div_ceil(1000) as u64);
    if let Some(secs) = flooded {
        return Some(Failure::TooManyRequests {
            retry_after: secs.max(1),
        });
    }
    let script = st.scripts.iter_mut().find(|s| {
        s.remaining > 0 && s.method == method && (s.chat_id.is_none() || s.chat_id == chat)
    })?;
    script.remaining -= 1;
    let failure = script.failure.clone();
    st.scripts.retain(|s| s.remaining > 0);
    Some(failure)
}

/// The answer of a scripted failure (`None` for [`Failure::Hang`]: answer normally).
fn failure_answer(f: &Failure) -> Option<Answer> {
    Some(match f {
        Failure::TooManyRequests { retry_after } => error_answer(
            429,
            &format!("Too Many Requests: retry after {retry_after}"),
            Some(json!({ "retry_after": retry_after })),
        ),
        Failure::Blocked => error_answer(403, "Forbidden: bot was blocked by the user", None),
        Failure::NotModified => error_answer(400, NOT_MODIFIED, None),
        Failure::BadRequest(text) => error_answer(400, &format!("Bad Request: {text}"), None),
        Failure::Migrated(to) => error_answer(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            Some(json!({ "migrate_to_chat_id": to })),
        ),
        Failure::ServerError => raw_answer(500, "text/plain", "Internal Server Error".into()),
        Failure::BadGateway => raw_answer(502, "text/html", BAD_GATEWAY_HTML.into()),
        Failure::Hang(_) => return None,
    })
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";

fn download(rest: &str, inner: &Inner) -> Answer {
    let Some((token, path)) = rest.split_once('/') else {
        return error_answer(404, "Not Found", None);
    };
    if token != inner.token {
        return error_answer(401, "Unauthorized", None);
    }
    let mut st = inner.lock();
    let bytes = st
        .paths
        .get(path)
        .and_then(|id| st.files.get(id))
        .map(|f| f.bytes.clone());
    let status = if bytes.is_some() { 200 } else { 404 };
    st.calls.push(Call {
        method: DOWNLOAD.into(),
        params: json!({ "file_path": path }),
        files: Vec::new(),
        content_type: String::new(),
        status,
    });
    match bytes {
        Some(b) => raw_answer(200, "application/octet-stream", b),
        None => error_answer(404, "Not Found", None),
    }
}

fn outcome_answer(outcome: Outcome) -> Answer {
    match outcome {
        Ok(result) => json_answer(200, &json!({ "ok": true, "result": result })),
        Err((code, description, params)) => error_answer(code, &description, params),
    }
}

fn error_answer(code: u16, description: &str, parameters: Option<Value>) -> Answer {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    json_answer(code, &body)
}

fn json_answer(status: u16, body: &Value) -> Answer {
    raw_answer(status, "application/json", body.to_string().into_bytes())
}

fn raw_answer(status: u16, content_type: &str, body: Vec<u8>) -> Answer {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = content_type.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

fn header(req: &Request<Incoming>, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn canonical(method: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(method))
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// Parameters whose form values are JSON (numbers, booleans, objects), not text.
const TYPED_PARAMS: &[&str] = &[
    "chat_id",
    "message_id",
    "user_id",
    "reply_markup",
    "reply_parameters",
    "reply_to_message_id",
    "show_alert",
    "cache_time",
    "disable_notification",
    "protect_content",
    "max_connections",
    "drop_pending_updates",
    "allowed_updates",
    "commands",
    "scope",
    "prices",
    "ok",
    "has_spoiler",
    "offset",
    "limit",
];

async fn parse_params(
    query: &str,
    content_type: &str,
    body: Bytes,
) -> Result<(Value, Vec<UploadedFile>), String> {
    let mut params = Map::new();
    add_form_pairs(&mut params, form_urlencoded::parse(query.as_bytes()));
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut files = Vec::new();
    match mime.as_str() {
        "application/json" if !body.is_empty() => {
            let v: Value =
                serde_json::from_slice(&body).map_err(|e| format!("can't parse JSON: {e}"))?;
            let Value::Object(obj) = v else {
                return Err("JSON body is not an object".into());
            };
            params.extend(obj);
        }
        "application/x-www-form-urlencoded" => {
            add_form_pairs(&mut params, form_urlencoded::parse(&body));
        }
        "multipart/form-data" => {
            files = parse_multipart(content_type, body, &mut params).await?;
        }
        _ => {}
    }
    Ok((Value::Object(params), files))
}

fn add_form_pairs<'a>(
    params: &mut Map<String, Value>,
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) {
    for (k, v) in pairs {
        let value = form_value(&k, &v);
        params.insert(k.into_owned(), value);
    }
}

/// A form value as JSON: decoded for typed parameters, text otherwise.
fn form_value(name: &str, text: &str) -> Value {
    if TYPED_PARAMS.contains(&name)
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return v;
    }
    Value::String(text.to_owned())
}

async fn parse_multipart(
    content_type: &str,
    body: Bytes,
    params: &mut Map<String, Value>,
) -> Result<Vec<UploadedFile>, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| e.to_string())?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let bytes = field.bytes().await.map_err(|e| e.to_string())?;
        if filename.is_some() {
            files.push(UploadedFile {
                field: name,
                filename,
                content_type,
                bytes: bytes.to_vec(),
            });
        } else {
            let text = String::from_utf8_lossy(&bytes);
            params.insert(name.clone(), form_value(&name, &text));
        }
    }
    Ok(files)
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text_param(params: &Value, name: &str) -> Option<String> {
    match &params[name] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bad(description: &str) -> Fail {
    (400, format!("Bad Request: {description}"), None)
}

// ---------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------

fn run_method(inner: &Inner, method: &str, p: &Value, files: &[UploadedFile]) -> Outcome {
    let mut st = inner.lock();
    let bot = bot_user(&inner.token);
    match method {
        "getMe" => Ok(bot),
        "sendMessage" => send_message(&mut st, bot, p),
        "editMessageText" => edit_text(&mut st, bot, p),
        "editMessageReplyMarkup" => edit_markup(&mut st, bot, p),
        "deleteMessage" => delete_message(&mut st, p),
        "answerCallbackQuery" => require(
            p,
            "callback_query_id",
            "query is too old and response timeout expired or query ID is invalid",
        ),
        "sendPhoto" => send_photo(&mut st, bot, p, files),
        "sendDocument" => send_document(&mut st, bot, p, files),
        "getFile" => get_file(&st, p),
        "sendChatAction" => chat_action(p),
        "setWebhook" => set_webhook(&mut st, p),
        "deleteWebhook" => {
            st.webhook.clear();
            Ok(Value::Bool(true))
        }
        "getWebhookInfo" => Ok(webhook_info(&st)),
        "setMyCommands" => set_commands(&mut st, p),
        "getMyCommands" => Ok(if st.commands.is_null() {
            json!([])
        } else {
            st.commands.clone()
        }),
        "sendInvoice" => send_invoice(&mut st, bot, p),
        "answerPreCheckoutQuery" => answer_pre_checkout(p),
        "refundStarPayment" => refund(&mut st, p),
        "getStarTransactions" => star_transactions(&st, p),
        _ => Err((404, "Not Found".into(), None)),
    }
}

fn require(p: &Value, name: &str, missing: &str) -> Outcome {
    match text_param(p, name) {
        Some(s) if !s.is_empty() => Ok(Value::Bool(true)),
        _ => Err(bad(missing)),
    }
}

fn bot_id(token: &str) -> i64 {
    token
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(123_456_789)
}

fn bot_user(token: &str) -> Value {
    json!({
        "id": bot_id(token),
        "is_bot": true,
        "first_name": "QwenEditBot Test",
        "username": "qwen_edit_test_bot",
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false
    })
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The chat object for a `chat_id` parameter, or "chat not found".
fn chat_of(p: &Value) -> Result<(i64, Value), Fail> {
    let chat = match &p["chat_id"] {
        Value::Null => return Err(bad("chat_id is empty")),
        Value::String(s) if s.starts_with('@') => {
            let id = -1_001_000_000_000 - (s.len() as i64);
            return Ok((
                id,
                json!({ "id": id, "title": "Test channel", "username": &s[1..], "type": "channel" }),
            ));
        }
        v => as_i64(v).ok_or_else(|| bad("chat not found"))?,
    };
    let obj = if chat > 0 {
        json!({ "id": chat, "first_name": "Test", "username": "test_user", "type": "private" })
    } else if chat < -1_000_000_000_000 {
        json!({ "id": chat, "title": "Test supergroup", "type": "supergroup" })
    } else {
        json!({ "id": chat, "title": "Test group", "type": "group" })
    };
    Ok((chat, obj))
}

/// A new message in the chat of `p`, recorded; fields of `extra` are added.
fn new_message(st: &mut State, bot: Value, p: &Value, extra: Value) -> Outcome {
    let (chat_id, chat) = chat_of(p)?;
    let id = st.next_message_id.entry(chat_id).or_insert(0);
    *id += 1;
    let message_id = *id;
    let mut msg = json!({ "message_id": message_id, "from": bot, "chat": chat, "date": now() });
    merge(&mut msg, extra);
    if let Some(markup) = p.get("reply_markup").filter(|m| !m.is_null()) {
        msg["reply_markup"] = markup.clone();
    }
    if let Some(reply) = reply_to(p) {
        msg["reply_to_message"] =
            json!({ "message_id": reply, "chat": msg["chat"].clone(), "date": now() });
    }
    let stored = StoredMessage {
        text: msg["text"].as_str().map(str::to_owned),
        reply_markup: p.get("reply_markup").cloned().filter(|m| !m.is_null()),
        deleted: false,
        json: msg.clone(),
        payload: msg.get("invoice").and_then(|_| text_param(p, "payload")),
    };
    st.messages.insert((chat_id, message_id), stored);
    st.version += 1;
    Ok(msg)
}

fn reply_to(p: &Value) -> Option<i64> {
    as_i64(&p["reply_parameters"]["message_id"]).or_else(|| as_i64(&p["reply_to_message_id"]))
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(t), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

fn send_message(st: &mut State, bot: Value, p: &Value) -> Outcome {
    let text = text_param(p, "text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(bad("message text is empty"));
    }
    new_message(st, bot, p, json!({ "text": text }))
}

fn edit_target(p: &Value) -> Result<(i64, Value, i64), Fail> {
    let (chat_id, chat) = chat_of(p)?;
    let message_id =
        as_i64(&p["message_id"]).ok_or_else(|| bad("message identifier is not specified"))?;
    Ok((chat_id, chat, message_id))
}

fn edit_text(st: &mut State, bot: Value, p: &Value) -> Outcome {
    if p.get("inline_message_id").is_some() {
        return Ok(Value::Bool(true));
    }
    let text = text_param(p, "text").unwrap_or_default();
    if text.trim().is_empty() {
        return Err(bad("message text is empty"));
    }
    let (chat_id, chat, message_id) = edit_target(p)?;
    let markup = p.get("reply_markup").cloned().filter(|m| !m.is_null());
    let stored = st.messages.entry((chat_id, message_id)).or_default();
    if stored.deleted {
        return Err(bad("message to edit not found"));
    }
    if stored.text.as_deref() == Some(text.as_str()) && stored.reply_markup == markup {
        return Err((400, NOT_MODIFIED.into(), None));
    }
    stored.text = Some(text.clone());
    stored.reply_markup = markup.clone();
    let mut msg = json!({ "message_id": message_id, "from": bot, "chat": chat, "date": now(), "edit_date": now(), "text": text });
    if let Some(m) = markup {
        msg["reply_markup"] = m;
    }
    record_edit(stored, &msg);
    st.version += 1;
    Ok(msg)
}

fn edit_markup(st: &mut State, bot: Value, p: &Value) -> Outcome {
    if p.get("inline_message_id").is_some() {
        return Ok(Value::Bool(true));
    }
    let (chat_id, chat, message_id) = edit_target(p)?;
    let markup = p.get("reply_markup").cloned().filter(|m| !m.is_null());
    let stored = st.messages.entry((chat_id, message_id)).or_default();
    if stored.deleted {
        return Err(bad("message to edit not found"));
    }
    if stored.reply_markup == markup {
        return Err((400, NOT_MODIFIED.into(), None));
    }
    stored.reply_markup = markup.clone();
    let mut msg = json!({ "message_id": message_id, "from": bot, "chat": chat, "date": now(), "edit_date": now() });
    if let Some(t) = &stored.text {
        msg["text"] = json!(t);
    }
    if let Some(m) = markup {
        msg["reply_markup"] = m;
    }
    record_edit(stored, &msg);
    st.version += 1;
    Ok(msg)
}

/// Keeps the stored message in step with an edit (`msg` is the edited message's answer).
fn record_edit(stored: &mut StoredMessage, msg: &Value) {
    if stored.json.is_null() {
        return;
    }
    for key in ["text", "edit_date"] {
        if let Some(v) = msg.get(key) {
            stored.json[key] = v.clone();
        }
    }
    match (msg.get("reply_markup"), stored.json.as_object_mut()) {
        (Some(m), _) => stored.json["reply_markup"] = m.clone(),
        (None, Some(obj)) => {
            obj.remove("reply_markup");
        }
        (None, None) => {}
    }
}

fn delete_message(st: &mut State, p: &Value) -> Outcome {
    let (chat_id, _, message_id) = edit_target(p)?;
    let stored = st.messages.entry((chat_id, message_id)).or_default();
    if stored.deleted {
        return Err(bad("message to delete not found"));
    }
    stored.deleted = true;
    st.version += 1;
    Ok(Value::Bool(true))
}

/// The file of a `photo`/`document` parameter: (file_id, bytes when known, the upload).
type Input<'a> = (String, Option<Vec<u8>>, Option<&'a UploadedFile>);

/// The file of a `photo`/`document` parameter: an upload (field or `attach://name`), or a
/// file id / URL.
fn input_file<'a>(
    st: &mut State,
    p: &Value,
    field: &str,
    files: &'a [UploadedFile],
) -> Result<Input<'a>, Fail> {
    let reference = text_param(p, field);
    let attach = reference
        .as_deref()
        .and_then(|r| r.strip_prefix("attach://"));
    let upload = files.iter().find(|f| f.field == attach.unwrap_or(field));
    if let Some(up) = upload {
        st.counter += 1;
        let id = format!("AgACAgIAAxkBAAI{:06}", st.counter);
        return Ok((id, Some(up.bytes.clone()), Some(up)));
    }
    match reference {
        Some(r) if r.starts_with("http://") || r.starts_with("https://") => {
            st.counter += 1;
            Ok((format!("AgACAgIAAxUrl{:06}", st.counter), None, None))
        }
        Some(r) if !r.is_empty() => {
            let bytes = st.files.get(&r).map(|f| f.bytes.clone());
            Ok((r, bytes, None))
        }
        _ => Err(bad(&format!("there is no {field} in the request"))),
    }
}

fn send_photo(st: &mut State, bot: Value, p: &Value, files: &[UploadedFile]) -> Outcome {
    let (file_id, bytes, upload) = input_file(st, p, "photo", files)?;
    let size = bytes.as_ref().map_or(54_321, Vec::len);
    if let (Some(b), Some(_)) = (bytes, upload) {
        let path = format!("photos/file_{}.jpg", st.counter);
        insert_file(st, &file_id, &path, b);
    }
    let photo = json!([
        { "file_id": format!("{file_id}-s"), "file_unique_id": format!("AQADs{}", st.counter), "file_size": 1_234, "width": 90, "height": 90 },
        { "file_id": format!("{file_id}-m"), "file_unique_id": format!("AQADm{}", st.counter), "file_size": 12_345, "width": 320, "height": 320 },
        { "file_id": file_id, "file_unique_id": format!("AQADx{}", st.counter), "file_size": size, "width": 1024, "height": 1024 }
    ]);
    let mut extra = json!({ "photo": photo });
    if let Some(c) = text_param(p, "caption") {
        extra["caption"] = json!(c);
    }
    new_message(st, bot, p, extra)
}

fn send_document(st: &mut State, bot: Value, p: &Value, files: &[UploadedFile]) -> Outcome {
    let (file_id, bytes, upload) = input_file(st, p, "document", files)?;
    let mut doc = json!({ "file_id": file_id, "file_unique_id": format!("AgADd{}", st.counter) });
    if let Some(up) = upload {
        doc["file_name"] = json!(up.filename.clone().unwrap_or_else(|| "document".into()));
        doc["mime_type"] = json!(
            up.content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into())
        );
    }
    if let Some(b) = bytes {
        doc["file_size"] = json!(b.len());
        if upload.is_some() {
            let path = format!("documents/file_{}", st.counter);
            insert_file(st, &file_id, &path, b);
        }
    }
    let mut extra = json!({ "document": doc });
    if let Some(c) = text_param(p, "caption") {
        extra["caption"] = json!(c);
    }
    new_message(st, bot, p, extra)
}

fn get_file(st: &State, p: &Value) -> Outcome {
    let id = text_param(p, "file_id").unwrap_or_default();
    if id.is_empty() {
        return Err(bad("file_id not specified"));
    }
    let file = st.files.get(&id).ok_or_else(|| bad("invalid file_id"))?;
    if file.bytes.len() > GET_FILE_LIMIT {
        return Err(bad("file is too big"));
    }
    Ok(json!({
        "file_id": id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.bytes.len(),
        "file_path": file.path,
    }))
}

fn chat_action(p: &Value) -> Outcome {
    chat_of(p)?;
    match text_param(p, "action").as_deref() {
        Some(
            "typing" | "upload_photo" | "upload_document" | "record_video" | "upload_video"
            | "record_voice" | "upload_voice" | "choose_sticker" | "find_location"
            | "record_video_note" | "upload_video_note",
        ) => Ok(Value::Bool(true)),
        _ => Err(bad("wrong parameter action in request")),
    }
}

fn set_webhook(st: &mut State, p: &Value) -> Outcome {
    let url = text_param(p, "url").unwrap_or_default();
    if url.is_empty() {
        st.webhook.clear();
        return Ok(Value::Bool(true));
    }
    if let Some(secret) = text_param(p, "secret_token") {
        let valid = secret.len() <= 256
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(bad("secret token contains unallowed characters"));
        }
    }
    st.webhook = p.as_object().cloned().unwrap_or_default();
    Ok(Value::Bool(true))
}

fn webhook_info(st: &State) -> Value {
    let w = &st.webhook;
    let mut info = json!({
        "url": w.get("url").cloned().unwrap_or(json!("")),
        "has_custom_certificate": false,
        "pending_update_count": 0,
    });
    if w.contains_key("url") {
        info["max_connections"] = w.get("max_connections").cloned().unwrap_or(json!(40));
        info["ip_address"] = json!("127.0.0.1");
    }
    if let Some(a) = w.get("allowed_updates") {
        info["allowed_updates"] = a.clone();
    }
    info
}

fn set_commands(st: &mut State, p: &Value) -> Outcome {
    let Some(list) = p["commands"].as_array() else {
        return Err(bad("parameter \"commands\" is required"));
    };
    for c in list {
        let name = c["command"].as_str().unwrap_or("");
        let ok = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok {
            return Err(bad("BOT_COMMAND_INVALID"));
        }
    }
    let default_scope = p["scope"].is_null() || p["scope"]["type"] == "default";
    match text_param(p, "language_code").filter(|l| !l.is_empty()) {
        None if default_scope => st.commands = Value::Array(list.clone()),
        Some(lang) if default_scope => {
            st.commands_by_lang.insert(lang, Value::Array(list.clone()));
        }
        _ => {}
    }
    Ok(Value::Bool(true))
}

fn send_invoice(st: &mut State, bot: Value, p: &Value) -> Outcome {
    for name in ["title", "description", "payload", "currency"] {
        if text_param(p, name).unwrap_or_default().is_empty() {
            return Err(bad(&format!("parameter \"{name}\" is required")));
        }
    }
    let prices = p["prices"].as_array().cloned().unwrap_or_default();
    let total: i64 = prices.iter().filter_map(|x| as_i64(&x["amount"])).sum();
    let currency = text_param(p, "currency").unwrap_or_default();
    if prices.is_empty() || total <= 0 {
        return Err(bad("CURRENCY_TOTAL_AMOUNT_INVALID"));
    }
    let has_provider = text_param(p, "provider_token").is_some_and(|t| !t.is_empty());
    if currency == "XTR" && (prices.len() != 1 || has_provider) {
        return Err(bad("INVOICE_PAYLOAD_INVALID"));
    }
    let invoice = json!({
        "title": p["title"], "description": p["description"],
        "start_parameter": p.get("start_parameter").cloned().unwrap_or(json!("")),
        "currency": currency, "total_amount": total,
    });
    new_message(st, bot, p, json!({ "invoice": invoice }))
}

fn answer_pre_checkout(p: &Value) -> Outcome {
    if text_param(p, "pre_checkout_query_id")
        .unwrap_or_default()
        .is_empty()
    {
        return Err(bad("QUERY_ID_INVALID"));
    }
    match &p["ok"] {
        Value::Bool(true) => Ok(Value::Bool(true)),
        Value::Bool(false) if text_param(p, "error_message").is_some() => Ok(Value::Bool(true)),
        Value::Bool(false) => Err(bad("ERROR_MESSAGE_EMPTY")),
        _ => Err(bad("parameter \"ok\" is required")),
    }
}

fn refund(st: &mut State, p: &Value) -> Outcome {
    if as_i64(&p["user_id"]).is_none() {
        return Err(bad("USER_ID_INVALID"));
    }
    let charge = text_param(p, "telegram_payment_charge_id").unwrap_or_default();
    if charge.is_empty() {
        return Err(bad("CHARGE_ID_EMPTY"));
    }
    if st.refunded.contains(&charge) {
        return Err(bad("CHARGE_ALREADY_REFUNDED"));
    }
    let refunded = st
        .star_transactions
        .iter()
        .find(|t| t["id"] == charge.as_str() && t.get("source").is_some())
        .map(|t| json!({"id": charge, "amount": t["amount"], "date": now(),
            "receiver": {"type": "user", "transaction_type": "invoice_payment", "user": t["source"]["user"]}}));
    st.star_transactions.extend(refunded);
    st.refunded.push(charge);
    Ok(Value::Bool(true))
}

/// The incoming `StarTransaction` of a Stars `successful_payment` by `user`.
fn incoming_star(user: &Value, paid: &Value, date: i64) -> Value {
    let source = json!({"type": "user", "transaction_type": "invoice_payment", "user": user,
        "invoice_payload": paid["invoice_payload"]});
    json!({"id": paid["telegram_payment_charge_id"], "amount": paid["total_amount"],
        "date": date, "source": source})
}

fn star_transactions(st: &State, p: &Value) -> Outcome {
    let offset = match &p["offset"] {
        Value::Null => 0,
        v => as_i64(v)
            .filter(|o| *o >= 0)
            .ok_or_else(|| bad("offset is invalid"))?,
    };
    let limit = match &p["limit"] {
        Value::Null => 100,
        v => as_i64(v)
            .ok_or_else(|| bad("limit is invalid"))?
            .clamp(1, 100),
    };
    let limit = st.star_page_size.map_or(limit, |n| limit.min(n as i64));
    let page: Vec<Value> = st
        .star_transactions
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .cloned()
        .collect();
    Ok(json!({ "transactions": page }))
}
