//! A loopback fake of ComfyUI 0.33 that answers like the real server recorded in
//! `tests/fixtures/comfyui-wire/`: the same endpoints, status codes, error bodies and websocket
//! message order (`status` → `execution_start` → `execution_cached` → per node
//! `progress_state`, `executing`, `progress`, `executed` → `execution_success` |
//! `execution_error` | `execution_interrupted` → `status` → `executing {node: null}`).
//!
//! It does not compute images itself: a run sleeps its run time (settable) and "saves" a
//! PNG, the one given to [`FakeComfy::set_output`] or what an [`Editor`] makes of the
//! prompt's input images ([`FakeComfy::set_editor`]).
//! With [`FakeComfy::set_dirs`] it keeps uploads and outputs as real files in an `input/` and
//! an `output/` directory, as ComfyUI does (and reads them back from there: a deleted file is
//! gone, `/view` answers 404), so tests can check what stays on the disk.
//! Tests steer it per prompt with [`Behaviour`] (an execution error, a hang until
//! interrupted, a 400, a 500, a dropped websocket, a crash) and can take it down and up.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// A 1×1 PNG, the "output" of every run unless [`FakeComfy::set_output`] says otherwise.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// What an [`Editor`] is given when a run saves its image.
#[derive(Debug, Clone)]
pub struct EditRequest {
    /// The prompt id.
    pub prompt_id: String,
    /// The graph as submitted.
    pub graph: Value,
    /// The uploaded images its `LoadImage` nodes load, in node order (unknown ones skipped).
    pub inputs: Vec<Vec<u8>>,
}

/// Makes the PNG a run saves from its [`EditRequest`].
pub type Editor =
    Arc<dyn Fn(EditRequest) -> futures::future::BoxFuture<'static, Vec<u8>> + Send + Sync>;

const SERVER_ERROR: &str = "500 Internal Server Error\n\nServer got itself in trouble";

/// How the fake treats one submitted prompt (taken in submission order; default `Succeed`).
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    /// Runs for the run time and saves an image.
    Succeed,
    /// Fails in its image node with `execution_error`.
    ExecutionError,
    /// Never finishes until interrupted.
    Hang,
    /// `POST /prompt` answers 400 (`prompt_outputs_failed_validation`, as recorded).
    Reject400,
    /// `POST /prompt` answers 500 with the plain-text body.
    Fail500,
    /// Halfway through the run, every websocket is closed; the run goes on.
    DropWebsocket,
    /// Halfway through the run, every open websocket goes silent without closing (a
    /// half-open connection): no frame reaches it any more. Sockets opened later work.
    MuteWebsocket,
    /// Halfway through the run, the server dies (history and queue lost) and comes back
    /// after the given time.
    Crash(Duration),
}

/// One `POST /prompt` the fake accepted.
#[derive(Debug, Clone)]
pub struct PromptRecord {
    /// The prompt id.
    pub prompt_id: String,
    /// The `client_id` sent with it.
    pub client_id: String,
    /// The graph.
    pub graph: Value,
    /// When it was accepted.
    pub submitted: Instant,
}

/// One run the fake executed (or began).
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The prompt id.
    pub prompt_id: String,
    /// When `execution_start` went out.
    pub started: Instant,
    /// When `executing {node: null}` went out (`None` if the run never ended).
    pub finished: Option<Instant>,
    /// `success`, `error`, `interrupted` or `crashed`.
    pub outcome: String,
}

struct Queued {
    number: u64,
    prompt_id: String,
    client_id: String,
    graph: Value,
    behaviour: Behaviour,
}

#[derive(Default)]
struct State {
    run_time: Duration,
    steps: u64,
    behaviours: VecDeque<Behaviour>,
    queue: VecDeque<Queued>,
    running: Option<(u64, String, String, Value)>,
    history: HashMap<String, Value>,
    uploads: HashMap<String, Vec<u8>>,
    outputs: HashMap<String, Vec<u8>>,
    output: Vec<u8>,
    dirs: Option<(std::path::PathBuf, std::path::PathBuf)>,
    editor: Option<Editor>,
    sockets: Vec<(String, mpsc::UnboundedSender<Message>)>,
    prompts: Vec<PromptRecord>,
    runs: Vec<RunRecord>,
    interrupts: Vec<Option<String>>,
    deleted: Vec<String>,
    muted: Vec<(String, mpsc::UnboundedSender<Message>)>,
    ws_connects: u64,
    interrupt: bool,
    number: u64,
    file_no: u64,
    health_calls: u64,
    /// Between-prompt housekeeping: (every, pause); `None` is off.
    housekeeping: Option<(Duration, Duration)>,
    /// When the last housekeeping pause began.
    last_housekeeping: Option<Instant>,
    /// A run ended since the last housekeeping pause.
    housekeeping_due: bool,
}

struct Inner {
    state: Mutex<State>,
    work: Notify,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake server; dropping it stops it.
pub struct FakeComfy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    worker: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Drop for FakeComfy {
    fn drop(&mut self) {
        for slot in [&self.server, &self.worker] {
            if let Some(h) = slot.lock().ok().and_then(|mut s| s.take()) {
                h.abort();
            }
        }
    }
}

impl FakeComfy {
    /// Starts on a free loopback port with a 50 ms run time and 4 progress steps.
    pub async fn start() -> FakeComfy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake ComfyUI");
        let addr = listener.local_addr().expect("local addr");
        let state = State {
            run_time: Duration::from_millis(50),
            steps: 4,
            output: TINY_PNG.to_vec(),
            ..State::default()
        };
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            work: Notify::new(),
        });
        let fake = FakeComfy {
            addr,
            inner: inner.clone(),
            server: Arc::new(Mutex::new(Some(tokio::spawn(serve(
                listener,
                inner.clone(),
            ))))),
            worker: Arc::new(Mutex::new(None)),
        };
        fake.spawn_worker();
        fake
    }

    fn spawn_worker(&self) {
        let handle = tokio::spawn(worker(
            self.inner.clone(),
            self.server.clone(),
            self.worker.clone(),
            self.addr,
        ));
        if let Ok(mut w) = self.worker.lock() {
            *w = Some(handle);
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets how long a run takes.
    pub fn set_run_time(&self, d: Duration) {
        self.inner.lock().run_time = d;
    }

    /// Sets the number of `progress` messages per run (0 for none).
    pub fn set_steps(&self, steps: u64) {
        self.inner.lock().steps = steps;
    }

    /// Models ComfyUI's between-prompt housekeeping (`prompt_worker` in its `main.py`: a
    /// full `gc.collect()` and cache trim): after a run, when `every` has passed since the
    /// last one, the worker pauses for `pause` before it starts the next prompt; an idle
    /// worker with a run since the last pause takes it once `every` has passed. Off by
    /// default; a zero `pause` turns it off.
    pub fn set_housekeeping(&self, every: Duration, pause: Duration) {
        let mut st = self.inner.lock();
        st.housekeeping = (!pause.is_zero()).then_some((every, pause));
        st.last_housekeeping = None;
        st.housekeeping_due = false;
    }

    /// Queues a behaviour for the next submitted prompt.
    pub fn push_behaviour(&self, b: Behaviour) {
        self.inner.lock().behaviours.push_back(b);
    }

    /// Sets the bytes every run "saves".
    pub fn set_output(&self, bytes: Vec<u8>) {
        self.inner.lock().output = bytes;
    }

    /// Keeps uploads as files in `input` and outputs under `output` (created when missing),
    /// as ComfyUI's `input/` and `output/` directories.
    pub fn set_dirs(&self, input: &std::path::Path, output: &std::path::Path) {
        let _ = std::fs::create_dir_all(input);
        let _ = std::fs::create_dir_all(output);
        self.inner.lock().dirs = Some((input.to_path_buf(), output.to_path_buf()));
    }

    /// The bytes of an uploaded input, if it is (still) there.
    pub fn upload_bytes(&self, name: &str) -> Option<Vec<u8>> {
        input_bytes(&self.inner.lock(), name)
    }

    /// Every run saves what `editor` makes of its input images (instead of the fixed output).
    pub fn set_editor(&self, editor: Editor) {
        self.inner.lock().editor = Some(editor);
    }

    /// Takes the server down (connections refused, sockets closed) or brings it back up on
    /// the same port. History survives (`crash` is the variant that loses it).
    pub async fn set_up(&self, up: bool) {
        set_up(&self.server, &self.inner, self.addr, up).await;
    }

    /// Closes every open websocket (runs go on).
    pub fn drop_websockets(&self) {
        self.inner.lock().sockets.clear();
    }

    /// Every accepted prompt, in order.
    pub fn prompts(&self) -> Vec<PromptRecord> {
        self.inner.lock().prompts.clone()
    }

    /// Every run, in order.
    pub fn runs(&self) -> Vec<RunRecord> {
        self.inner.lock().runs.clone()
    }

    /// `POST /interrupt` calls (their `prompt_id`, if any).
    pub fn interrupts(&self) -> Vec<Option<String>> {
        self.inner.lock().interrupts.clone()
    }

    /// How many websockets were opened so far.
    pub fn ws_connects(&self) -> u64 {
        self.inner.lock().ws_connects
    }

    /// Prompt ids named in `POST /queue {"delete": [...]}` calls so far.
    pub fn deleted(&self) -> Vec<String> {
        self.inner.lock().deleted.clone()
    }

    /// Uploaded input file names (ever uploaded, whether or not still on disk).
    pub fn uploads(&self) -> Vec<String> {
        self.inner.lock().uploads.keys().cloned().collect()
    }

    /// How often `/system_stats` was asked.
    pub fn health_calls(&self) -> u64 {
        self.inner.lock().health_calls
    }

    /// Waits until `n` runs ended (or `timeout`); returns the runs.
    pub async fn wait_runs_finished(&self, n: usize, timeout: Duration) -> Vec<RunRecord> {
        let end = Instant::now() + timeout;
        loop {
            let runs = self.runs();
            if runs.iter().filter(|r| r.finished.is_some()).count() >= n || Instant::now() > end {
                return runs;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn set_up(
    server: &Mutex<Option<tokio::task::JoinHandle<()>>>,
    inner: &Arc<Inner>,
    addr: SocketAddr,
    up: bool,
) {
    let old = server.lock().ok().and_then(|mut s| s.take());
    if let Some(h) = old {
        h.abort();
        let _ = h.await;
    }
    inner.lock().sockets.clear();
    if up {
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
                if let Ok(mut s) = server.lock() {
                    *s = Some(tokio::spawn(serve(listener, inner.clone())));
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        conns.spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, inner.clone()));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            let _ = conn.await;
        });
        while conns.try_join_next().is_some() {}
    }
}

type Resp = Response<Full<Bytes>>;

fn reply(status: u16, content_type: Option<&str>, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(v) = content_type.and_then(|ct| ct.parse().ok()) {
        r.headers_mut().insert("content-type", v);
    }
    r
}

fn json_reply(status: u16, v: &Value) -> Resp {
    reply(
        status,
        Some("application/json; charset=utf-8"),
        v.to_string(),
    )
}

async fn handle(
    req: Request<Incoming>,
    inner: Arc<Inner>,
) -> Result<Resp, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let method = req.method().as_str().to_owned();
    if path == "/ws" {
        return Ok(upgrade_ws(req, inner, &query));
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(match (method.as_str(), path.as_str()) {
        ("GET", "/system_stats") => {
            inner.lock().health_calls += 1;
            json_reply(200, &system_stats())
        }
        ("POST", "/upload/image") => upload(&inner, &content_type, body).await,
        ("POST", "/prompt") => post_prompt(&inner, &body),
        ("GET", "/queue") => json_reply(200, &queue_json(&inner.lock())),
        ("POST", "/queue") => post_queue(&inner, &body),
        ("POST", "/history") => post_history(&inner, &body),
        ("GET", "/view") => view(&inner, &query),
        ("POST", "/interrupt") => interrupt(&inner, &body),
        ("GET", p) if p.starts_with("/history/") => {
            let id = &p["/history/".len()..];
            let st = inner.lock();
            let v = st.history.get(id).map_or(json!({}), |h| json!({ id: h }));
            json_reply(200, &v)
        }
        _ => reply(404, Some("text/plain; charset=utf-8"), "404: Not Found"),
    })
}

fn system_stats() -> Value {
    json!({
        "system": {"os": "linux", "ram_total": 25276510208u64, "ram_free": 22306164736u64,
            "comfyui_version": "0.33.0", "required_frontend_version": "1.49.6",
            "installed_templates_version": "0.11.44", "required_templates_version": "0.11.44",
            "comfy_package_versions": [
                {"name": "comfyui-frontend-package", "installed": "1.49.6", "required": "1.49.6"},
                {"name": "comfyui-workflow-templates", "installed": "0.11.44", "required": "0.11.44"}],
            "python_version": "3.11.7 (main) [GCC 12.2.0]", "pytorch_version": "2.11.0+cu130",
            "embedded_python": false, "deploy_environment": "local-git", "argv": ["main.py", "--cpu"]},
        "devices": [{"name": "cpu", "type": "cpu", "index": null, "vram_total": 25276510208u64,
            "vram_free": 22306164736u64, "torch_vram_total": 25276510208u64, "torch_vram_free": 22306164736u64}]
    })
}

async fn upload(inner: &Inner, content_type: &str, body: Bytes) -> Resp {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return reply(400, None, "");
    };
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let (mut image, mut overwrite): (Option<(String, Vec<u8>)>, bool) = (None, false);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.unwrap_or_default();
        match name.as_str() {
            "image" => image = Some((filename.unwrap_or_default(), bytes.to_vec())),
            "overwrite" => overwrite = bytes.as_ref() == b"true" || bytes.as_ref() == b"1",
            _ => {}
        }
    }
    let Some((asked, bytes)) = image.filter(|(n, _)| !n.is_empty()) else {
        return reply(400, None, "");
    };
    // ComfyUI refuses a name that would leave its input directory.
    if asked.contains('/') || asked.contains("..") {
        return reply(400, None, "");
    }
    let mut st = inner.lock();
    let Some(name) = upload_name(&st, &asked, &bytes, overwrite) else {
        return json_reply(
            200,
            &json!({"name": asked, "subfolder": "", "type": "input"}),
        );
    };
    if let Some((input, _)) = &st.dirs
        && std::fs::write(input.join(&name), &bytes).is_err()
    {
        return reply(500, Some("text/plain; charset=utf-8"), SERVER_ERROR);
    }
    st.uploads.insert(name.clone(), bytes);
    drop(st);
    json_reply(
        200,
        &json!({"name": name, "subfolder": "", "type": "input"}),
    )
}

/// The name an upload is saved under, as ComfyUI picks it: the asked name when overwriting
/// or free; without `overwrite`, `None` when the same bytes are already there (nothing is
/// written, the asked name is answered), else the first free `stem (i).ext`.
fn upload_name(st: &State, asked: &str, bytes: &[u8], overwrite: bool) -> Option<String> {
    if overwrite {
        return Some(asked.to_owned());
    }
    let (stem, ext) = match asked.rfind('.') {
        Some(dot) if dot > 0 => (&asked[..dot], &asked[dot..]),
        _ => (asked, ""),
    };
    let mut name = asked.to_owned();
    for i in 1.. {
        match input_bytes(st, &name) {
            None => break,
            Some(existing) if existing == bytes => return None,
            Some(_) => name = format!("{stem} ({i}){ext}"),
        }
    }
    Some(name)
}

fn validation_error(
    node: &str,
    class: &str,
    kind: &str,
    message: &str,
    details: &str,
    input: &str,
) -> Value {
    json!({
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", "details": "", "extra_info": {}},
        "node_errors": {node: {"errors": [{"type": kind, "message": message, "details": details, "extra_info": {"input_name": input}}],
            "dependent_outputs": [], "class_type": class}}
    })
}

fn error_body(kind: &str, message: &str, details: &str) -> Value {
    json!({"error": {"type": kind, "message": message, "details": details, "extra_info": {}}, "node_errors": {}})
}

/// Checks a graph like ComfyUI's validation does, for the cases the host can cause.
fn validate(st: &State, graph: &Value) -> Option<Value> {
    let nodes = graph.as_object()?;
    let has_output = nodes
        .values()
        .any(|n| n["class_type"] == "SaveImage" || n["class_type"] == "PreviewImage");
    if !has_output {
        return Some(error_body("prompt_no_outputs", "Prompt has no outputs", ""));
    }
    nodes.iter().find_map(|(id, node)| check_node(st, id, node))
}

/// Node classes the fake knows (those of the Qwen and the model-free graphs).
const KNOWN_NODES: [&str; 23] = [
    "LoadImage",
    "ImageScale",
    "ImageBlur",
    "ColorTransfer",
    "SaveImage",
    "PreviewImage",
    "ImageInvert",
    "UNETLoader",
    "CLIPLoader",
    "VAELoader",
    "ModelSamplingAuraFlow",
    "CFGNorm",
    "LoraLoaderModelOnly",
    "PrimitiveBoolean",
    "PrimitiveFloat",
    "PrimitiveInt",
    "ComfySwitchNode",
    "TextEncodeQwenImageEditPlus",
    "FluxKontextMultiReferenceLatentMethod",
    "FluxKontextImageScale",
    "VAEEncode",
    "VAEDecode",
    "KSampler",
];

/// The recorded error for an unknown class or a `LoadImage` of a file never uploaded.
fn check_node(st: &State, id: &str, node: &Value) -> Option<Value> {
    let class = node["class_type"].as_str().unwrap_or("");
    if !KNOWN_NODES.contains(&class) {
        let title = node["_meta"]["title"].as_str().unwrap_or(class);
        let msg = format!("Node '{title}' not found. The custom node may not be installed.");
        let mut v = error_body("missing_node_type", &msg, &format!("Node ID '#{id}'"));
        v["error"]["extra_info"] = json!({"node_id": id, "class_type": class, "node_title": title});
        return Some(v);
    }
    let image = node["inputs"]["image"].as_str().unwrap_or("");
    if class == "LoadImage" && input_bytes(st, image).is_none() {
        let details = format!("image - Invalid image file: {image}");
        let (kind, msg) = (
            "custom_validation_failed",
            "Custom validation failed for node",
        );
        return Some(validation_error(id, class, kind, msg, &details, "image"));
    }
    None
}

/// An uploaded input: the file in the input directory when there is one, else the upload.
fn input_bytes(st: &State, name: &str) -> Option<Vec<u8>> {
    match &st.dirs {
        Some((input, _)) if !name.contains("..") => std::fs::read(input.join(name)).ok(),
        Some(_) => None,
        None => st.uploads.get(name).cloned(),
    }
}

/// A saved output (`subfolder/filename`), from the output directory when there is one.
fn output_file(st: &State, key: &str) -> Option<Vec<u8>> {
    match &st.dirs {
        Some((_, output)) => std::fs::read(output.join(key.trim_start_matches('/'))).ok(),
        None => st.outputs.get(key).cloned(),
    }
}

fn canonical_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

fn post_prompt(inner: &Inner, body: &[u8]) -> Resp {
    let (graph, prompt_id, client_id) = match parse_prompt(body) {
        Ok(parts) => parts,
        Err(resp) => return *resp,
    };
    let mut st = inner.lock();
    let behaviour = st.behaviours.pop_front().unwrap_or(Behaviour::Succeed);
    if let Some(resp) =
        scripted_refusal(&behaviour).or_else(|| validate(&st, &graph).map(|e| json_reply(400, &e)))
    {
        return resp;
    }
    let number = st.number;
    st.number += 1;
    let record = PromptRecord {
        prompt_id: prompt_id.clone(),
        client_id: client_id.clone(),
        graph: graph.clone(),
        submitted: Instant::now(),
    };
    st.prompts.push(record);
    st.queue.push_back(Queued {
        number,
        prompt_id: prompt_id.clone(),
        client_id,
        graph,
        behaviour,
    });
    let remaining = st.queue.len() + usize::from(st.running.is_some());
    broadcast_status(&mut st, remaining);
    // A real ComfyUI sends the queue status twice on a new prompt.
    broadcast_status(&mut st, remaining);
    drop(st);
    inner.work.notify_one();
    json_reply(
        200,
        &json!({"prompt_id": prompt_id, "number": number, "node_errors": {}}),
    )
}

/// The graph, prompt id and client id of a `POST /prompt` body, or the recorded refusal.
fn parse_prompt(body: &[u8]) -> Result<(Value, String, String), Box<Resp>> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(reply(
            500,
            Some("text/plain; charset=utf-8"),
            SERVER_ERROR,
        )));
    };
    let Some(graph) = v.get("prompt").cloned() else {
        let body = error_body("no_prompt", "No prompt provided", "No prompt provided");
        return Err(Box::new(json_reply(400, &body)));
    };
    let prompt_id = match v["prompt_id"].as_str() {
        Some(id) if !canonical_uuid(id) => {
            let details = "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one";
            let body = error_body(
                "invalid_prompt_id",
                "prompt_id must be a valid UUID",
                details,
            );
            return Err(Box::new(json_reply(400, &body)));
        }
        Some(id) => id.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    Ok((
        graph,
        prompt_id,
        v["client_id"].as_str().unwrap_or("").to_owned(),
    ))
}

/// The answer a test scripted for `/prompt` itself (a 500 or a 400), if any.
fn scripted_refusal(b: &Behaviour) -> Option<Resp> {
    match b {
        Behaviour::Fail500 => Some(reply(500, Some("text/plain; charset=utf-8"), SERVER_ERROR)),
        Behaviour::Reject400 => {
            let (kind, msg) = ("required_input_missing", "Required input is missing");
            let v = validation_error("2", "ImageScale", kind, msg, "height", "height");
            Some(json_reply(400, &v))
        }
        _ => None,
    }
}

fn queue_json(st: &State) -> Value {
    let item = |n: u64, id: &str, client: &str, g: &Value| json!([n, id, g, {"client_id": client, "create_time": now_ms()}, output_nodes(g)]);
    let running: Vec<Value> = st
        .running
        .iter()
        .map(|(n, id, c, g)| item(*n, id, c, g))
        .collect();
    let pending: Vec<Value> = st
        .queue
        .iter()
        .map(|q| item(q.number, &q.prompt_id, &q.client_id, &q.graph))
        .collect();
    json!({"queue_running": running, "queue_pending": pending})
}

/// The ids under `key` of a `{"delete": [...]}` body.
fn ids_to_delete(v: &Value) -> Vec<String> {
    v["delete"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `POST /queue` `{"delete": [ids]}` / `{"clear": true}`: removes pending prompts (never the
/// running one), answers 200 with an empty body and broadcasts the queue status, as ComfyUI
/// does; a body that is not JSON is its plain-text 500.
fn post_queue(inner: &Inner, body: &[u8]) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return reply(500, Some("text/plain; charset=utf-8"), SERVER_ERROR);
    };
    let mut st = inner.lock();
    let cleared = v["clear"].as_bool() == Some(true);
    if cleared {
        st.queue.clear();
    }
    let doomed = ids_to_delete(&v);
    let before = st.queue.len();
    st.queue.retain(|q| !doomed.contains(&q.prompt_id));
    let changed = cleared || st.queue.len() != before;
    st.deleted.extend(doomed);
    // ComfyUI sends the queue status when it wiped the queue or removed an item.
    if changed {
        let remaining = st.queue.len() + usize::from(st.running.is_some());
        broadcast_status(&mut st, remaining);
    }
    reply(200, None, "")
}

/// `POST /history` `{"delete": [ids]}` / `{"clear": true}`: forgets finished prompts;
/// 200 with an empty body.
fn post_history(inner: &Inner, body: &[u8]) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return reply(500, Some("text/plain; charset=utf-8"), SERVER_ERROR);
    };
    let mut st = inner.lock();
    if v["clear"].as_bool() == Some(true) {
        st.history.clear();
    }
    for id in ids_to_delete(&v) {
        st.history.remove(&id);
    }
    reply(200, None, "")
}

fn view(inner: &Inner, query: &str) -> Resp {
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let filename = params.get("filename").cloned().unwrap_or_default();
    let subfolder = params.get("subfolder").cloned().unwrap_or_default();
    let kind = params
        .get("type")
        .cloned()
        .unwrap_or_else(|| "output".into());
    if filename.contains("..") || filename.starts_with('/') {
        return reply(400, None, "");
    }
    if subfolder.contains("..") {
        return reply(403, None, "");
    }
    if !["output", "input", "temp"].contains(&kind.as_str()) {
        return reply(400, None, "");
    }
    let key = format!("{subfolder}/{filename}");
    let st = inner.lock();
    let bytes = if kind == "input" {
        input_bytes(&st, &filename)
    } else {
        output_file(&st, &key)
    };
    match bytes {
        Some(b) => {
            let mut r = reply(200, Some("image/png"), b);
            if let Ok(v) = format!("filename=\"{filename}\"").parse() {
                r.headers_mut().insert("content-disposition", v);
            }
            r
        }
        None => reply(404, None, ""),
    }
}

fn interrupt(inner: &Inner, body: &[u8]) -> Resp {
    let wanted = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["prompt_id"].as_str().map(str::to_owned));
    let mut st = inner.lock();
    st.interrupts.push(wanted.clone());
    let running = st.running.as_ref().map(|r| r.1.clone());
    if wanted.is_none() || wanted == running {
        st.interrupt = running.is_some();
    }
    reply(200, None, "")
}

fn upgrade_ws(mut req: Request<Incoming>, inner: Arc<Inner>, query: &str) -> Resp {
    let key = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec());
    let Some(key) = key else {
        return reply(400, None, "");
    };
    let client_id = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "clientId")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(&mut req).await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        run_socket(ws, inner, client_id).await;
    });
    let mut r = reply(101, None, "");
    let h = r.headers_mut();
    h.insert(
        "upgrade",
        hyper::header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        "connection",
        hyper::header::HeaderValue::from_static("upgrade"),
    );
    if let Ok(v) = accept.parse() {
        h.insert("sec-websocket-accept", v);
    }
    r
}

async fn run_socket(
    ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    inner: Arc<Inner>,
    client_id: String,
) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    {
        let mut st = inner.lock();
        let remaining = st.queue.len() + usize::from(st.running.is_some());
        let hello = json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": client_id}});
        let _ = tx.send(Message::Text(hello.to_string().into()));
        st.sockets.push((client_id, tx));
        st.ws_connects += 1;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(m) => if sink.send(m).await.is_err() { return },
                None => { let _ = sink.close().await; return }
            },
            inc = stream.next() => if !matches!(inc, Some(Ok(_))) { return },
        }
    }
}

fn send_to(st: &mut State, client_id: &str, v: Value) {
    let text = v.to_string();
    st.sockets.retain(|(_, tx)| !tx.is_closed());
    for (c, tx) in &st.sockets {
        if c == client_id {
            let _ = tx.send(Message::Text(text.clone().into()));
        }
    }
}

fn broadcast_status(st: &mut State, remaining: usize) {
    let v = json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}}});
    broadcast(st, &v);
}

/// Sends a message to every open socket (ComfyUI does so for `status` and interrupts).
fn broadcast(st: &mut State, v: &Value) {
    let text = v.to_string();
    st.sockets.retain(|(_, tx)| !tx.is_closed());
    for (_, tx) in &st.sockets {
        let _ = tx.send(Message::Text(text.clone().into()));
    }
}

type Slot = Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>;

async fn worker(inner: Arc<Inner>, server: Slot, _me: Slot, addr: SocketAddr) {
    loop {
        let job = {
            let mut st = inner.lock();
            let job = st.queue.pop_front();
            if let Some(j) = &job {
                st.running = Some((
                    j.number,
                    j.prompt_id.clone(),
                    j.client_id.clone(),
                    j.graph.clone(),
                ));
                st.interrupt = false;
            }
            job
        };
        let Some(job) = job else {
            idle(&inner).await;
            continue;
        };
        if let Some(down_for) = execute(&inner, &job).await {
            crash(&inner, &server, addr, down_for).await;
        }
        if let Some(pause) = housekeeping_pause(&inner, true) {
            tokio::time::sleep(pause).await;
        }
    }
}

/// Waits for a prompt; an idle worker with housekeeping due takes its pause when `every`
/// has passed since the last one (as ComfyUI's worker wakes from its queue wait to collect).
async fn idle(inner: &Inner) {
    let wait = {
        let st = inner.lock();
        match (st.housekeeping, st.last_housekeeping) {
            (Some((every, _)), Some(last)) if st.housekeeping_due => {
                Some(every.saturating_sub(last.elapsed()))
            }
            _ => None,
        }
    };
    let Some(wait) = wait else {
        inner.work.notified().await;
        return;
    };
    tokio::select! {
        _ = inner.work.notified() => {}
        _ = tokio::time::sleep(wait) => {
            if let Some(pause) = housekeeping_pause(inner, false) {
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// The housekeeping pause to take now, if one is due (`after_run`: a run just ended).
fn housekeeping_pause(inner: &Inner, after_run: bool) -> Option<Duration> {
    let mut st = inner.lock();
    let (every, pause) = st.housekeeping?;
    st.housekeeping_due |= after_run;
    let passed = st.last_housekeeping.is_none_or(|t| t.elapsed() >= every);
    if !(st.housekeeping_due && passed) {
        return None;
    }
    st.last_housekeeping = Some(Instant::now());
    st.housekeeping_due = false;
    Some(pause)
}

async fn crash(inner: &Arc<Inner>, server: &Slot, addr: SocketAddr, down_for: Duration) {
    {
        let mut st = inner.lock();
        st.history.clear();
        st.queue.clear();
        st.running = None;
    }
    set_up(server, inner, addr, false).await;
    tokio::time::sleep(down_for).await;
    set_up(server, inner, addr, true).await;
}

/// Ordered node ids of a graph (numeric order, as ComfyUI's simple graphs execute).
fn node_order(graph: &Value) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = graph
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v["class_type"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    ids.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
    ids
}

/// The ids of a graph's output nodes (ComfyUI's `outputs_to_execute`).
fn output_nodes(graph: &Value) -> Vec<String> {
    node_order(graph)
        .into_iter()
        .filter(|(_, class)| class == "SaveImage" || class == "PreviewImage")
        .map(|(id, _)| id)
        .collect()
}

/// Runs one prompt; `Some(down_for)` when it crashed the server.
async fn execute(inner: &Arc<Inner>, job: &Queued) -> Option<Duration> {
    let mut run = Run::begin(inner, job);
    let nodes = node_order(&job.graph);
    let op = nodes
        .iter()
        .position(|(_, c)| ["KSampler", "ColorTransfer", "ImageScale"].contains(&c.as_str()))
        .unwrap_or(0);
    for (i, (node, class)) in nodes.iter().enumerate() {
        run.announce(node);
        if i == op {
            match run_op(inner, job, node, class).await {
                OpEnd::Done => {}
                OpEnd::Crash(d) => {
                    mark_run(inner, &job.prompt_id, "crashed", false);
                    return Some(d);
                }
                OpEnd::Error(err) => return run.end("execution_error", err, "error"),
                OpEnd::Interrupted => {
                    let v = json!({"prompt_id": job.prompt_id, "node_id": node, "node_type": class,
                        "executed": run.executed, "timestamp": now_ms()});
                    return run.end("execution_interrupted", v, "interrupted");
                }
            }
        }
        if class == "SaveImage" {
            run.save(node).await;
        }
        run.executed.push(node.clone());
        run.finish_node(node);
    }
    let success = json!({"prompt_id": job.prompt_id, "timestamp": now_ms()});
    run.end("execution_success", success, "success")
}

/// One prompt being executed: what it has sent and produced so far.
struct Run<'a> {
    inner: &'a Arc<Inner>,
    job: &'a Queued,
    messages: Vec<Value>,
    executed: Vec<String>,
    outputs: Value,
    /// Every node's `progress_state` entry so far (ComfyUI sends them all each time).
    states: serde_json::Map<String, Value>,
}

impl<'a> Run<'a> {
    /// Records the run and sends `execution_start` and `execution_cached`.
    fn begin(inner: &'a Arc<Inner>, job: &'a Queued) -> Self {
        let pid = &job.prompt_id;
        let start = json!({"prompt_id": pid, "timestamp": now_ms()});
        let cached = json!({"nodes": [], "prompt_id": pid, "timestamp": now_ms()});
        let mut st = inner.lock();
        let record = RunRecord {
            prompt_id: pid.clone(),
            started: Instant::now(),
            finished: None,
            outcome: String::new(),
        };
        st.runs.push(record);
        send_to(
            &mut st,
            &job.client_id,
            json!({"type": "execution_start", "data": start}),
        );
        send_to(
            &mut st,
            &job.client_id,
            json!({"type": "execution_cached", "data": cached}),
        );
        let messages = vec![
            json!(["execution_start", start]),
            json!(["execution_cached", cached]),
        ];
        Run {
            inner,
            job,
            messages,
            executed: vec![],
            outputs: json!({}),
            states: serde_json::Map::new(),
        }
    }

    /// A node's `progress_state` entry, `running` (value 0) or `finished` (value 1).
    fn node_state(&self, node: &str, finished: bool) -> Value {
        let (value, state) = if finished {
            (1.0, "finished")
        } else {
            (0.0, "running")
        };
        json!({"value": value, "max": 1.0, "state": state, "node_id": node,
            "prompt_id": self.job.prompt_id, "display_node_id": node, "parent_node_id": null,
            "real_node_id": node})
    }

    /// Sends `progress_state` with every node's entry so far.
    fn send_states(&self, st: &mut State) {
        let pid = &self.job.prompt_id;
        let data = json!({"prompt_id": pid, "nodes": Value::Object(self.states.clone())});
        send_to(
            st,
            &self.job.client_id,
            json!({"type": "progress_state", "data": data}),
        );
    }

    /// `progress_state` with the node marked finished, as ComfyUI sends after each node.
    fn finish_node(&mut self, node: &str) {
        let state = self.node_state(node, true);
        self.states.insert(node.to_owned(), state);
        self.send_states(&mut self.inner.lock());
    }

    /// `progress_state` and `executing {node}` for a node that starts.
    fn announce(&mut self, node: &str) {
        let state = self.node_state(node, false);
        self.states.insert(node.to_owned(), state);
        let pid = &self.job.prompt_id;
        let mut st = self.inner.lock();
        self.send_states(&mut st);
        let cid = &self.job.client_id;
        send_to(
            &mut st,
            cid,
            json!({"type": "executing", "data": {"node": node, "display_node": node, "prompt_id": pid}}),
        );
    }

    /// Saves the output image and sends `executed`.
    async fn save(&mut self, node: &str) {
        let bytes = output_bytes(self.inner, self.job).await;
        let out = save_output(self.inner, self.job, bytes);
        let data = json!({"node": node, "display_node": node, "output": out, "prompt_id": self.job.prompt_id});
        send_to(
            &mut self.inner.lock(),
            &self.job.client_id,
            json!({"type": "executed", "data": data}),
        );
        self.outputs[node] = out;
    }

    /// Sends the outcome message, writes the history, then `status` and the terminal
    /// `executing {node: null}`.
    fn end(mut self, kind: &str, data: Value, outcome: &str) -> Option<Duration> {
        self.messages.push(json!([kind, data.clone()]));
        let msg = json!({"type": kind, "data": data});
        {
            let mut st = self.inner.lock();
            if kind == "execution_interrupted" {
                broadcast(&mut st, &msg);
            } else {
                send_to(&mut st, &self.job.client_id, msg);
            }
        }
        finish_run(self.inner, self.job, outcome, self.outputs, self.messages);
        None
    }
}

enum OpEnd {
    Done,
    Error(Value),
    Interrupted,
    Crash(Duration),
}

/// The image node's work: `run_time` in `steps` slices, one `progress` per slice, with the
/// scripted misbehaviour (hang, dropped sockets, crash, error) and interrupts between slices.
async fn run_op(inner: &Arc<Inner>, job: &Queued, node: &str, class: &str) -> OpEnd {
    let (run_time, steps) = {
        let st = inner.lock();
        (st.run_time, st.steps)
    };
    let slices = steps.max(1);
    let mut done = 0u64;
    while done < slices {
        tokio::time::sleep(run_time / slices as u32).await;
        let mut st = inner.lock();
        if std::mem::take(&mut st.interrupt) {
            return OpEnd::Interrupted;
        }
        if job.behaviour == Behaviour::Hang {
            continue;
        }
        done += 1;
        if steps > 0 {
            let data =
                json!({"value": done, "max": steps, "prompt_id": job.prompt_id, "node": node});
            send_to(
                &mut st,
                &job.client_id,
                json!({"type": "progress", "data": data}),
            );
        }
        if done * 2 >= slices && done * 2 < slices + 2 {
            match &job.behaviour {
                Behaviour::DropWebsocket => st.sockets.clear(),
                Behaviour::MuteWebsocket => {
                    let open = std::mem::take(&mut st.sockets);
                    st.muted.extend(open);
                }
                Behaviour::Crash(d) => return OpEnd::Crash(*d),
                _ => {}
            }
        }
    }
    match job.behaviour {
        Behaviour::ExecutionError => OpEnd::Error(oom_error(job, node, class)),
        _ => OpEnd::Done,
    }
}

/// An `execution_error` payload shaped like the recorded one.
fn oom_error(job: &Queued, node: &str, class: &str) -> Value {
    json!({"prompt_id": job.prompt_id, "node_id": node, "node_type": class, "executed": [],
        "exception_message": "Allocation on device would exceed allowed memory.\n",
        "exception_type": "torch.OutOfMemoryError",
        "traceback": ["  File \"ComfyUI/execution.py\", line 545, in execute\n"],
        "current_inputs": {}, "current_outputs": {}})
}

/// The image a run saves: the editor's work on the inputs, or the fixed output.
async fn output_bytes(inner: &Arc<Inner>, job: &Queued) -> Vec<u8> {
    let (editor, inputs) = {
        let st = inner.lock();
        let Some(editor) = st.editor.clone() else {
            return st.output.clone();
        };
        let inputs = node_order(&job.graph)
            .iter()
            .filter(|(_, class)| class == "LoadImage")
            .filter_map(|(id, _)| job.graph[id]["inputs"]["image"].as_str())
            .filter_map(|name| input_bytes(&st, name))
            .collect();
        (editor, inputs)
    };
    editor(EditRequest {
        prompt_id: job.prompt_id.clone(),
        graph: job.graph.clone(),
        inputs,
    })
    .await
}

fn save_output(inner: &Arc<Inner>, job: &Queued, bytes: Vec<u8>) -> Value {
    let mut st = inner.lock();
    st.file_no += 1;
    let prefix = job
        .graph
        .as_object()
        .and_then(|m| m.values().find(|n| n["class_type"] == "SaveImage"))
        .and_then(|n| n["inputs"]["filename_prefix"].as_str())
        .unwrap_or("ComfyUI")
        .to_owned();
    let (sub, base) = prefix
        .rsplit_once('/')
        .map_or((String::new(), prefix.clone()), |(s, b)| {
            (s.to_owned(), b.to_owned())
        });
    let filename = format!("{base}_{:05}_.png", st.file_no);
    if let Some((_, output)) = &st.dirs {
        let dir = output.join(&sub);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(&filename), &bytes);
    }
    st.outputs.insert(format!("{sub}/{filename}"), bytes);
    json!({"images": [{"filename": filename, "subfolder": sub, "type": "output"}]})
}

fn mark_run(inner: &Arc<Inner>, pid: &str, outcome: &str, finished: bool) {
    let mut st = inner.lock();
    if let Some(r) = st.runs.iter_mut().rev().find(|r| r.prompt_id == pid) {
        r.outcome = outcome.to_owned();
        if finished {
            r.finished = Some(Instant::now());
        }
    }
}

fn finish_run(
    inner: &Arc<Inner>,
    job: &Queued,
    outcome: &str,
    outputs: Value,
    messages: Vec<Value>,
) {
    let pid = &job.prompt_id;
    let ok = outcome == "success";
    let meta: serde_json::Map<String, Value> = outputs
        .as_object()
        .map(|o| {
            o.keys()
                .map(|id| (id.clone(), json!({"node_id": id, "display_node": id, "parent_node": null, "real_node_id": id})))
                .collect()
        })
        .unwrap_or_default();
    let entry = json!({
        "prompt": [job.number, pid, job.graph, {"client_id": job.client_id, "create_time": now_ms()}, output_nodes(&job.graph)],
        "outputs": outputs,
        "status": {"status_str": if ok { "success" } else { "error" }, "completed": ok, "messages": messages},
        "meta": meta
    });
    let mut st = inner.lock();
    st.history.insert(pid.clone(), entry);
    st.running = None;
    let remaining = st.queue.len();
    broadcast_status(&mut st, remaining);
    let done = json!({"type": "executing", "data": {"node": null, "prompt_id": pid}});
    send_to(&mut st, &job.client_id, done);
    drop(st);
    mark_run(inner, pid, outcome, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queues `n` prompts of a model-free graph at once and returns the gaps between their
    /// runs (next start − previous end).
    async fn gaps(fake: &FakeComfy, n: usize) -> Vec<Duration> {
        let graph = json!({"1": {"class_type": "ImageScale", "inputs": {}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}}});
        let client = reqwest::Client::new();
        for _ in 0..n {
            let body = json!({"prompt": graph, "client_id": "t"});
            let resp = client
                .post(format!("{}/prompt", fake.url()))
                .json(&body)
                .send()
                .await
                .expect("POST /prompt");
            assert_eq!(resp.status(), 200);
        }
        let runs = fake.wait_runs_finished(n, Duration::from_secs(10)).await;
        runs.windows(2)
            .map(|p| p[1].started - p[0].finished.expect("finished"))
            .collect()
    }

    #[tokio::test]
    async fn housekeeping_pauses_between_prompts_only_when_due() {
        let fake = FakeComfy::start().await;
        fake.set_run_time(Duration::from_millis(20));
        fake.set_housekeeping(Duration::from_millis(150), Duration::from_millis(100));
        let with = gaps(&fake, 4).await;
        // The first run is due at once; the next ones come before `every` has passed, until
        // a later one ends after it.
        assert!(with[0] >= Duration::from_millis(100), "{with:?}");
        assert!(with[1] < Duration::from_millis(50), "{with:?}");
        let off = FakeComfy::start().await;
        off.set_run_time(Duration::from_millis(20));
        let without = gaps(&off, 3).await;
        assert!(
            without.iter().all(|g| *g < Duration::from_millis(50)),
            "{without:?}"
        );
    }
}
