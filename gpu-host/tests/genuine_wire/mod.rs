//! The requests the parity test sends to a ComfyUI (the genuine one and the fake alike), and
//! what of the answers a client depends on: status codes, content types, JSON key shapes,
//! exact bodies where they are fixed, and the websocket message types of a run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use testkit::fakes::comfyui::TINY_PNG;

/// Longest wait for one step of the exchange.
const STEP: Duration = Duration::from_secs(90);
/// A second valid PNG (64×48), different bytes from [`TINY_PNG`].
const OTHER_PNG: &[u8] = include_bytes!("../../../tests/fixtures/comfyui-wire/sample_upload.png");

/// Status, content type (empty when none) and body text of an answer.
pub type Answer = (u16, String, String);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.bytes().await.expect("answer body");
    let text = if bytes.starts_with(b"\x89PNG") {
        "<png>".to_owned()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (status, ct, text)
}

/// One request with an optional JSON body.
pub async fn request(url: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
    let method: reqwest::Method = method.parse().expect("method");
    let mut req = client().request(method, format!("{url}{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.expect("request to ComfyUI")).await
}

/// A `POST` with a raw JSON-typed body (e.g. not JSON at all).
pub async fn post_raw(url: &str, path: &str, body: &'static str) -> Answer {
    let req = client()
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body);
    answer(req.send().await.expect("request to ComfyUI")).await
}

/// `POST /upload/image` of `bytes` as `name`, with `overwrite=true` when asked.
pub async fn upload(url: &str, name: &str, bytes: &[u8], overwrite: bool) -> Answer {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name(name.to_owned())
        .mime_str("image/png")
        .expect("mime");
    let mut form = reqwest::multipart::Form::new().part("image", part);
    if overwrite {
        form = form.text("overwrite", "true");
    }
    let req = client().post(format!("{url}/upload/image")).multipart(form);
    answer(req.send().await.expect("upload to ComfyUI")).await
}

/// What to keep of an answer's body.
#[derive(Clone, Copy)]
enum Keep {
    /// The body itself (JSON parsed, else the text).
    Exact,
    /// The JSON key shape.
    Shape,
}

/// The key shape of a JSON value: objects keep their keys, arrays the distinct shapes of
/// their elements in order, scalars become their type's name.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => {
            let mut out: Vec<Value> = Vec::new();
            for s in a.iter().map(shape) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Value::Array(out)
        }
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

fn body_json(a: &Answer) -> Value {
    serde_json::from_str(&a.2).unwrap_or_else(|_| Value::String(a.2.clone()))
}

/// The observations of one server, labelled.
#[derive(Default)]
struct Seen(Vec<(String, Value)>);

impl Seen {
    fn note(&mut self, label: &str, v: Value) {
        self.0.push((label.to_owned(), v));
    }

    fn answer(&mut self, label: &str, a: &Answer, keep: Keep) {
        let body = match keep {
            Keep::Exact => body_json(a),
            Keep::Shape => shape(&body_json(a)),
        };
        self.note(
            label,
            json!({"status": a.0, "content_type": a.1, "body": body}),
        );
    }
}

/// A websocket to the server, its frames collected in the background.
struct Socket {
    frames: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Socket {
    async fn connect(url: &str, client_id: &str) -> Socket {
        let ws_url = format!("{}/ws?clientId={client_id}", url.replacen("http", "ws", 1));
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("websocket to ComfyUI");
        let frames: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = frames.clone();
        let task = tokio::spawn(async move {
            let (_write, mut read) = ws.split();
            while let Some(Ok(msg)) = read.next().await {
                let v = match msg {
                    tokio_tungstenite::tungstenite::Message::Text(t) => {
                        serde_json::from_str(t.as_str()).unwrap_or(Value::Null)
                    }
                    tokio_tungstenite::tungstenite::Message::Binary(_) => json!({"type": "binary"}),
                    _ => continue,
                };
                sink.lock().expect("frames").push(v);
            }
        });
        Socket { frames, task }
    }

    fn frames(&self) -> Vec<Value> {
        self.frames.lock().expect("frames").clone()
    }

    /// Waits for the first frame from `from` on that `pred` accepts; returns its index.
    async fn wait_for(&self, from: usize, what: &str, pred: impl Fn(&Value) -> bool) -> usize {
        let end = Instant::now() + STEP;
        loop {
            let frames = self.frames();
            if let Some(i) = frames.iter().skip(from).position(&pred) {
                return from + i;
            }
            assert!(Instant::now() < end, "no websocket {what} in {frames:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn is_end(m: &Value, pid: &str) -> bool {
    m["type"] == "executing" && m["data"]["node"].is_null() && m["data"]["prompt_id"] == pid
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The few-second CPU graph loading `image`.
fn cpu_graph(image: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/workflows/cpu_blur.json");
    let text = std::fs::read_to_string(&path).expect("the CPU workflow fixture");
    let mut graph: Value = serde_json::from_str(&text).expect("fixture JSON");
    graph["1"]["inputs"]["image"] = json!(image);
    graph
}

async fn post_graph(url: &str, client_id: &str, pid: &str, image: &str) -> Answer {
    let body = json!({"prompt": cpu_graph(image), "client_id": client_id, "prompt_id": pid});
    request(url, "POST", "/prompt", Some(body)).await
}

/// Sends the parity exchange to the server at `url` (fresh: empty input directory, nothing
/// queued) and returns what a client depends on, labelled.
pub async fn observe(url: &str) -> Vec<(String, Value)> {
    let mut seen = Seen::default();
    let stats = request(url, "GET", "/system_stats", None).await;
    seen.answer("GET /system_stats", &stats, Keep::Shape);
    uploads(url, &mut seen).await;
    refusals(url, &mut seen).await;
    let cid = format!("parity-{}", uuid::Uuid::new_v4().simple());
    let ws = Socket::connect(url, &cid).await;
    let hello = ws.wait_for(0, "hello", |_| true).await;
    seen.note("ws hello", shape(&ws.frames()[hello]));
    let p1 = runs(url, &cid, &ws, &mut seen).await;
    history_and_views(url, &p1, &mut seen).await;
    interrupts(url, &mut seen).await;
    seen.0
}

async fn uploads(url: &str, seen: &mut Seen) {
    let steps: [(&str, &[u8], bool); 4] = [
        ("new, overwrite", TINY_PNG, true),
        ("other bytes, overwrite", OTHER_PNG, true),
        ("other bytes, no overwrite", TINY_PNG, false),
        ("same bytes, no overwrite", OTHER_PNG, false),
    ];
    for (what, bytes, overwrite) in steps {
        let a = upload(url, "parity.png", bytes, overwrite).await;
        seen.answer(&format!("POST /upload/image ({what})"), &a, Keep::Exact);
    }
}

async fn refusals(url: &str, seen: &mut Seen) {
    let graph = cpu_graph("parity.png");
    let no_prompt = json!({"client_id": "parity"});
    let bad_id = json!({"prompt": graph, "prompt_id": "Not-A-UUID"});
    let mut missing = graph.clone();
    missing["9"] = json!({"inputs": {}, "class_type": "NoSuchNode", "_meta": {"title": "Nope"}});
    let cases = [
        ("no_prompt", no_prompt),
        ("invalid_prompt_id", bad_id),
        ("missing node", json!({"prompt": missing})),
    ];
    for (what, body) in cases {
        let a = request(url, "POST", "/prompt", Some(body)).await;
        seen.answer(&format!("POST /prompt ({what})"), &a, Keep::Exact);
    }
    let a = post_raw(url, "/prompt", "{not json").await;
    seen.answer("POST /prompt (malformed JSON)", &a, Keep::Exact);
}

/// Two runs and a deleted pending prompt; returns the first run's prompt id.
async fn runs(url: &str, cid: &str, ws: &Socket, seen: &mut Seen) -> String {
    let (p1, p2, p3) = (new_id(), new_id(), new_id());
    let a = post_graph(url, cid, &p1, "parity.png").await;
    seen.answer("POST /prompt (ok)", &a, Keep::Shape);
    seen.note(
        "POST /prompt (ok) node_errors",
        body_json(&a)["node_errors"].clone(),
    );
    post_graph(url, cid, &p2, "parity (1).png").await;
    let q = wait_queue(url, 1, 1).await;
    seen.answer("GET /queue (one runs, one waits)", &q, Keep::Shape);
    let qv = body_json(&q);
    let order = [&qv["queue_running"][0][1], &qv["queue_pending"][0][1]];
    seen.note("GET /queue ids", json!([order[0] == &p1, order[1] == &p2]));
    let end1 = ws.wait_for(0, "end of run 1", |m| is_end(m, &p1)).await;
    post_graph(url, cid, &p3, "parity.png").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = body_json(&request(url, "GET", "/queue", None).await);
    let pending = before["queue_pending"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    seen.note(
        "pending before delete",
        json!(pending.iter().any(|i| i[1] == p3)),
    );
    let mark = ws.frames().len();
    let d = request(url, "POST", "/queue", Some(json!({"delete": [p3]}))).await;
    seen.answer("POST /queue (delete pending)", &d, Keep::Exact);
    let end2 = ws.wait_for(end1, "end of run 2", |m| is_end(m, &p2)).await;
    let frames = ws.frames();
    let told = frames[mark..end2]
        .iter()
        .any(|m| m["type"] == "status" && m["data"]["status"]["exec_info"]["queue_remaining"] == 1);
    seen.note("status after delete", json!(told));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let h3 = request(url, "GET", &format!("/history/{p3}"), None).await;
    seen.answer("GET /history (deleted pending)", &h3, Keep::Exact);
    let ran = ws
        .frames()
        .iter()
        .any(|m| m["data"]["prompt_id"] == p3.as_str() && m["type"] == "execution_start");
    seen.note("deleted prompt ran", json!(ran));
    run_messages(&frames, &p1, seen);
    p1
}

/// Waits until `GET /queue` shows `running` running and `pending` pending prompts.
async fn wait_queue(url: &str, running: usize, pending: usize) -> Answer {
    let end = Instant::now() + STEP;
    loop {
        let a = request(url, "GET", "/queue", None).await;
        let v = body_json(&a);
        let len = |k: &str| v[k].as_array().map_or(0, Vec::len);
        if len("queue_running") == running && len("queue_pending") == pending {
            return a;
        }
        assert!(
            Instant::now() < end,
            "queue never {running}+{pending}: {}",
            a.2
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The message types of run `pid` from `execution_start` to its `executing {node: null}`
/// (queue `status` messages only after its outcome: before it they belong to other
/// requests), and the key shape of each type's first message.
fn run_messages(frames: &[Value], pid: &str, seen: &mut Seen) {
    let mine = |m: &Value| m["data"]["prompt_id"] == pid;
    let start = frames
        .iter()
        .position(|m| m["type"] == "execution_start" && mine(m))
        .expect("execution_start of run 1");
    let outcome = frames
        .iter()
        .position(|m| m["type"] == "execution_success" && mine(m))
        .expect("execution_success of run 1");
    let end = frames
        .iter()
        .position(|m| is_end(m, pid))
        .expect("end of run 1");
    let run: Vec<&Value> = frames[start..=end]
        .iter()
        .enumerate()
        .filter(|(i, m)| mine(m) || (m["type"] == "status" && start + i > outcome))
        .map(|(_, m)| m)
        .collect();
    let types: Vec<&Value> = run.iter().map(|m| &m["type"]).collect();
    seen.note("ws run message types", json!(types));
    let mut shapes = serde_json::Map::new();
    for m in &run {
        let kind = m["type"].as_str().unwrap_or("?").to_owned();
        shapes.entry(kind).or_insert_with(|| shape(&m["data"]));
    }
    seen.note("ws run message shapes", Value::Object(shapes));
}

async fn history_and_views(url: &str, p1: &str, seen: &mut Seen) {
    let h = request(url, "GET", &format!("/history/{p1}"), None).await;
    let entry = body_json(&h)[p1].clone();
    seen.note(
        "GET /history (after a run)",
        json!({"status": h.0, "content_type": h.1, "entry": shape(&entry)}),
    );
    let messages = entry["status"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kinds: Vec<Value> = messages
        .iter()
        .map(|m| json!([m[0], m[1]["timestamp"].is_u64()]))
        .collect();
    seen.note("history messages (type, timestamp)", json!(kinds));
    let image = &entry["outputs"]["5"]["images"][0];
    let (file, sub) = (
        image["filename"].as_str().unwrap_or(""),
        image["subfolder"].as_str().unwrap_or(""),
    );
    let views = [
        ("ok", format!("filename={file}&subfolder={sub}&type=output")),
        (
            "missing",
            "filename=nope.png&subfolder=&type=output".to_owned(),
        ),
        (
            "dot-dot name",
            "filename=..%2Fx.png&subfolder=&type=output".to_owned(),
        ),
        (
            "escaping subfolder",
            "filename=x.png&subfolder=..%2F..&type=output".to_owned(),
        ),
    ];
    for (what, query) in views {
        let a = request(url, "GET", &format!("/view?{query}"), None).await;
        seen.answer(&format!("GET /view ({what})"), &a, Keep::Exact);
    }
    let d = request(url, "POST", "/history", Some(json!({"delete": [p1]}))).await;
    seen.answer("POST /history (delete)", &d, Keep::Exact);
    let gone = request(url, "GET", &format!("/history/{p1}"), None).await;
    seen.answer("GET /history (deleted)", &gone, Keep::Exact);
    let unknown = request(url, "GET", &format!("/history/{}", new_id()), None).await;
    seen.answer("GET /history (unknown)", &unknown, Keep::Exact);
}

async fn interrupts(url: &str, seen: &mut Seen) {
    let bare = post_raw(url, "/interrupt", "").await;
    seen.answer("POST /interrupt (no body)", &bare, Keep::Exact);
    let named = request(
        url,
        "POST",
        "/interrupt",
        Some(json!({"prompt_id": new_id()})),
    )
    .await;
    seen.answer("POST /interrupt (prompt_id)", &named, Keep::Exact);
}

/// Every label whose observation differs, with both values.
pub fn differences(real: &[(String, Value)], fake: &[(String, Value)]) -> Vec<String> {
    let get = |all: &[(String, Value)], label: &str| {
        all.iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let mut labels: Vec<&String> = real.iter().map(|(l, _)| l).collect();
    labels.extend(
        fake.iter()
            .map(|(l, _)| l)
            .filter(|l| !real.iter().any(|(r, _)| r == *l)),
    );
    labels
        .into_iter()
        .filter_map(|label| {
            let (r, f) = (get(real, label), get(fake, label));
            (r != f).then(|| format!("- {label}\n    genuine: {r}\n    fake:    {f}"))
        })
        .collect()
}
