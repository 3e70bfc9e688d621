//! HTTP side of ComfyUI: `/system_stats`, `/upload/image`, `/prompt`, `/history/{id}`,
//! `/queue`, `/view`, `/interrupt`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::retry::Retryable;

/// Longest wait for ComfyUI's answer to a status call (queue, history, interrupt): a
/// server that takes longer is treated as not answering.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a prompt is in ComfyUI's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    /// Being executed.
    Running,
    /// Waiting behind the running one.
    Pending,
    /// Neither: finished (see the history), deleted, or never known.
    Absent,
}

/// Errors from ComfyUI.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ComfyError {
    /// Connection refused, timeout or 5xx: try again later.
    #[error("ComfyUI unavailable: {0}")]
    Unavailable(String),
    /// `/prompt` refused the graph (400): permanent.
    #[error("ComfyUI refused the workflow: {0}")]
    Validation(String),
    /// The run failed inside a node: permanent.
    #[error("ComfyUI execution error: {0}")]
    Execution(String),
    /// The run was interrupted.
    #[error("ComfyUI run interrupted")]
    Interrupted,
    /// The run passed its deadline (and was interrupted).
    #[error("ComfyUI run passed its deadline")]
    Timeout,
    /// ComfyUI forgot the prompt (restarted): submit again.
    #[error("ComfyUI lost the prompt (restart?)")]
    Lost,
    /// Any other unexpected answer.
    #[error("ComfyUI: {0}")]
    Other(String),
}

impl Retryable for ComfyError {
    fn is_retryable(&self) -> bool {
        matches!(self, ComfyError::Unavailable(_) | ComfyError::Lost)
    }
}

fn unavailable(e: reqwest::Error) -> ComfyError {
    ComfyError::Unavailable(e.to_string())
}

/// One image a node produced (or an uploaded input).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ImageRef {
    /// File name.
    pub filename: String,
    /// Subfolder, often empty.
    #[serde(default)]
    pub subfolder: String,
    /// `output`, `temp` or `input`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// What `/history/{id}` knows about a finished prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// `success` or `error`.
    pub status_str: String,
    /// `true` when the run completed.
    pub completed: bool,
    /// Outputs by node id.
    pub outputs: Value,
    /// Names of the status messages (`execution_error`, `execution_interrupted`, …).
    pub message_kinds: Vec<String>,
    /// The `execution_error` payload, if any.
    pub error: Option<Value>,
}

impl HistoryEntry {
    /// Reads one entry of a `/history` answer (the value under the prompt id).
    pub fn from_json(v: &Value) -> Self {
        let status = &v["status"];
        let messages = status["messages"].as_array().cloned().unwrap_or_default();
        let kinds: Vec<String> = messages
            .iter()
            .filter_map(|m| m[0].as_str().map(str::to_owned))
            .collect();
        let error = messages
            .iter()
            .find(|m| m[0] == "execution_error")
            .map(|m| m[1].clone());
        Self {
            status_str: status["status_str"].as_str().unwrap_or("").to_owned(),
            completed: status["completed"].as_bool().unwrap_or(false),
            outputs: v["outputs"].clone(),
            message_kinds: kinds,
            error,
        }
    }

    /// `true` when the run succeeded.
    pub fn succeeded(&self) -> bool {
        self.status_str == "success" && self.completed
    }

    /// `true` when the run was interrupted.
    pub fn interrupted(&self) -> bool {
        self.message_kinds
            .iter()
            .any(|k| k == "execution_interrupted")
    }
}

/// HTTP client of one ComfyUI server.
#[derive(Clone)]
pub struct ComfyClient {
    http: reqwest::Client,
    base: String,
    health_url: String,
    client_id: String,
}

impl ComfyClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8188`) identifying as `client_id`.
    pub fn new(base: &str, health_url: &str, client_id: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            health_url: health_url.to_owned(),
            client_id: client_id.to_owned(),
        }
    }

    /// The `client_id` sent with every prompt (and used on the websocket).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The websocket URL for this client.
    pub fn ws_url(&self) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.clone()
        };
        format!("{ws}/ws?clientId={}", self.client_id)
    }

    /// `true` when `/system_stats` answers 200 within 5 s.
    pub async fn healthy(&self) -> bool {
        let res = self
            .http
            .get(&self.health_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match res {
            Ok(r) => r.status().is_success(),
            Err(e) => {
                tracing::debug!(error = %e, "ComfyUI health check failed");
                false
            }
        }
    }

    /// Uploads an input image under `name` (overwriting); returns the name ComfyUI chose.
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] for connection errors and 5xx, [`ComfyError::Other`] else.
    pub async fn upload_image(&self, name: &str, bytes: Vec<u8>) -> Result<String, ComfyError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("image/png")
            .map_err(|e| ComfyError::Other(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .part("image", part)
            .text("overwrite", "true");
        let resp = self
            .http
            .post(format!("{}/upload/image", self.base))
            .multipart(form)
            .send()
            .await
            .map_err(unavailable)?;
        let v = json_body(resp).await?;
        let name = v["name"].as_str().unwrap_or(name);
        let sub = v["subfolder"].as_str().unwrap_or("");
        Ok(if sub.is_empty() {
            name.to_owned()
        } else {
            format!("{sub}/{name}")
        })
    }

    /// Queues `graph` as `prompt_id`.
    ///
    /// # Errors
    /// [`ComfyError::Validation`] for a 400 (node errors are logged), `Unavailable` for
    /// connection errors and 5xx.
    pub async fn submit(&self, graph: &Value, prompt_id: &str) -> Result<(), ComfyError> {
        let body = json!({"prompt": graph, "client_id": self.client_id, "prompt_id": prompt_id});
        let resp = self
            .http
            .post(format!("{}/prompt", self.base))
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        let status = resp.status().as_u16();
        if status == 400 {
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            tracing::error!(prompt_id, error = %v["error"], node_errors = %v["node_errors"], "ComfyUI refused the workflow");
            let msg = v["error"]["message"]
                .as_str()
                .unwrap_or("validation failed");
            return Err(ComfyError::Validation(msg.to_owned()));
        }
        json_body(resp).await.map(|_| ())
    }

    /// The history entry of `prompt_id`, `None` when ComfyUI has none (yet, or any more).
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn history(&self, prompt_id: &str) -> Result<Option<HistoryEntry>, ComfyError> {
        let resp = self
            .http
            .get(format!("{}/history/{prompt_id}", self.base))
            .timeout(CHECK_TIMEOUT)
            .send()
            .await
            .map_err(unavailable)?;
        let v = json_body(resp).await?;
        Ok(v.get(prompt_id).map(HistoryEntry::from_json))
    }

    /// Where `prompt_id` is in ComfyUI's queue.
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn queue_state(&self, prompt_id: &str) -> Result<QueueState, ComfyError> {
        let resp = self
            .http
            .get(format!("{}/queue", self.base))
            .timeout(CHECK_TIMEOUT)
            .send()
            .await
            .map_err(unavailable)?;
        let v = json_body(resp).await?;
        let has = |key: &str| {
            v[key]
                .as_array()
                .is_some_and(|items| items.iter().any(|it| it[1] == prompt_id))
        };
        Ok(if has("queue_running") {
            QueueState::Running
        } else if has("queue_pending") {
            QueueState::Pending
        } else {
            QueueState::Absent
        })
    }

    /// `true` when `prompt_id` is running or pending in ComfyUI's queue.
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn in_queue(&self, prompt_id: &str) -> Result<bool, ComfyError> {
        Ok(self.queue_state(prompt_id).await? != QueueState::Absent)
    }

    /// Removes `prompt_id` from ComfyUI's pending queue (`POST /queue {"delete": [id]}`; a
    /// running prompt is not touched — see [`ComfyClient::interrupt`]).
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn delete_pending(&self, prompt_id: &str) -> Result<(), ComfyError> {
        self.post_ok("queue", json!({"delete": [prompt_id]})).await
    }

    /// Drops `prompt_ids` from ComfyUI's in-memory history (`POST /history {"delete": […]}`),
    /// once their job is final: ComfyUI keeps up to 10,000 entries otherwise, each naming
    /// a person's photo.
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn forget(&self, prompt_ids: &[String]) -> Result<(), ComfyError> {
        self.post_ok("history", json!({ "delete": prompt_ids }))
            .await
    }

    async fn post_ok(&self, path: &str, body: Value) -> Result<(), ComfyError> {
        let resp = self
            .http
            .post(format!("{}/{path}", self.base))
            .timeout(CHECK_TIMEOUT)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        match resp.status().as_u16() {
            200 => Ok(()),
            s if s >= 500 => Err(ComfyError::Unavailable(format!("{path}: HTTP {s}"))),
            s => Err(ComfyError::Other(format!("{path}: HTTP {s}"))),
        }
    }

    /// Downloads an output image.
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] on connection errors/5xx, `Other` for 4xx.
    pub async fn view(&self, image: &ImageRef) -> Result<Vec<u8>, ComfyError> {
        let resp = self
            .http
            .get(format!("{}/view", self.base))
            .query(&[
                ("filename", image.filename.as_str()),
                ("subfolder", image.subfolder.as_str()),
                ("type", image.kind.as_str()),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        let status = resp.status().as_u16();
        if status >= 500 {
            return Err(ComfyError::Unavailable(format!("view: HTTP {status}")));
        }
        if status != 200 {
            return Err(ComfyError::Other(format!("view: HTTP {status}")));
        }
        Ok(resp.bytes().await.map_err(unavailable)?.to_vec())
    }

    /// Interrupts `prompt_id` if it is the one running (always 200 on a live ComfyUI).
    ///
    /// # Errors
    /// [`ComfyError::Unavailable`] when ComfyUI cannot be reached.
    pub async fn interrupt(&self, prompt_id: &str) -> Result<(), ComfyError> {
        self.http
            .post(format!("{}/interrupt", self.base))
            .timeout(CHECK_TIMEOUT)
            .json(&json!({"prompt_id": prompt_id}))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

async fn json_body(resp: reqwest::Response) -> Result<Value, ComfyError> {
    let status = resp.status().as_u16();
    if status >= 500 {
        return Err(ComfyError::Unavailable(format!("HTTP {status}")));
    }
    if status != 200 {
        let text = resp.text().await.unwrap_or_default();
        return Err(ComfyError::Other(format!("HTTP {status}: {text}")));
    }
    resp.json()
        .await
        .map_err(|e| ComfyError::Other(format!("bad JSON: {e}")))
}

/// The images in a history `outputs` object (or an `executed` message's `output`), the
/// node `prefer` first.
pub fn output_images(outputs: &Value, prefer: Option<&str>) -> Vec<ImageRef> {
    let images = |node: &Value| -> Vec<ImageRef> {
        serde_json::from_value(node["images"].clone()).unwrap_or_default()
    };
    if let Some(found) = prefer.and_then(|id| outputs.get(id)).map(images)
        && !found.is_empty()
    {
        return found;
    }
    outputs
        .as_object()
        .map(|m| m.values().flat_map(images).collect())
        .unwrap_or_default()
}
