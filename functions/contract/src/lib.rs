//! # qwen-contract
//!
//! The edge–GPU contract: the job message, the job events, the words both sides use for a
//! job's state (status, failure reason, language) and the HMAC signing of the host's calls.
//! The edge (`qwen-core`) and the GPU host (`gpu-host`) both depend on this small crate and
//! on nothing of each other.
//!
//! Mirrors `wit/contract.wit` (package `qwenedit:contract@1.0.0`), the one source of truth;
//! `tests/wit_drift.rs` fails when the two disagree. The JSON shapes here are what travels
//! on the Redis stream and to `POST /internal/jobs/{id}/events`.

use serde::{Deserialize, Serialize};

mod ids;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod signing;
mod words;

pub use ids::{ChatId, JobId, UserId};
pub use words::{FailureReason, JobStatus, Language, SentAs, UnknownWord};

/// Version of the job message and job event schemas (`"v"` on the wire).
pub const CONTRACT_VERSION: u32 = 1;

/// Redis stream field that carries the JSON job message.
pub const JOB_FIELD: &str = "job";

/// Largest seed the edge hands out: below 2^53 so that every JSON reader keeps it exact.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// One edit to run, as `XADD`ed to the jobs stream under the field [`JOB_FIELD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMessage {
    /// Schema version, [`CONTRACT_VERSION`].
    pub v: u32,
    /// The job's id (UUID string).
    pub job_id: JobId,
    /// Telegram user id of the owner.
    pub user_id: UserId,
    /// Telegram chat to deliver the result to.
    pub chat_id: ChatId,
    /// Telegram file ids of the input photos (1 to 3).
    pub file_ids: Vec<String>,
    /// The final prompt for the model.
    pub prompt: String,
    /// Preset the prompt came from; `None` for a custom prompt.
    pub preset_id: Option<String>,
    /// Sampler seed, at most [`MAX_SEED`].
    pub seed: u64,
    /// Workflow name under `workflows/`, without `.json`.
    pub workflow: String,
    /// The user's language for messages from the host.
    pub lang: Language,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

impl JobMessage {
    /// Parses a job message from the stream, refusing an unknown schema version.
    ///
    /// # Errors
    /// [`ContractError::Json`] for malformed JSON, [`ContractError::Version`] for `v != 1`.
    pub fn from_json(raw: &[u8]) -> Result<Self, ContractError> {
        let msg: JobMessage = serde_json::from_slice(raw)?;
        if msg.v != CONTRACT_VERSION {
            return Err(ContractError::Version(msg.v));
        }
        Ok(msg)
    }

    /// Serializes the message for the stream.
    ///
    /// # Errors
    /// [`ContractError::Json`] if serialization fails (it cannot for this shape, but the
    /// caller decides what a failure means rather than receiving an empty string).
    pub fn to_json(&self) -> Result<String, ContractError> {
        Ok(serde_json::to_string(self)?)
    }
}

/// What a successful run produced.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputMeta {
    /// ComfyUI prompt id of the run that produced the output.
    pub comfy_prompt_id: String,
    /// Size of the delivered file in bytes.
    pub bytes: u64,
    /// How the result was sent.
    pub sent_as: SentAs,
    /// Time the GPU part took, milliseconds.
    pub run_ms: u64,
}

/// Why a job failed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Machine-readable reason.
    pub reason: FailureReason,
    /// Plain words for the user, in their language.
    pub user_message: String,
}

/// What happened to a job (`"type"` on the wire).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobEventKind {
    /// A host took the job's entry with a new attempt number and prepares it (download,
    /// checks, upload, a place in ComfyUI's queue). The job stays `queued` — its owner still
    /// sees a position and may cancel it — but older attempts are fenced out. The edge
    /// answers whether to go on.
    Claimed,
    /// The GPU began the job's run (ComfyUI's `execution_start`); the job becomes
    /// `running` with `started_at` now. The edge answers whether to go on.
    Started,
    /// The host asks to send the result; granted once per job.
    Delivering,
    /// The result was delivered.
    Succeeded(OutputMeta),
    /// The job failed for good; the edge refunds its charge once.
    Failed(Failure),
}

impl JobEventKind {
    /// The wire name of the event kind.
    pub fn name(&self) -> &'static str {
        match self {
            JobEventKind::Claimed => "claimed",
            JobEventKind::Started => "started",
            JobEventKind::Delivering => "delivering",
            JobEventKind::Succeeded(_) => "succeeded",
            JobEventKind::Failed(_) => "failed",
        }
    }
}

/// Body of `POST /internal/jobs/{id}/events`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    /// Schema version, [`CONTRACT_VERSION`].
    pub v: u32,
    /// The run's attempt number: a fencing token; only the job's current attempt counts.
    pub attempt: u32,
    /// Name of the host (consumer) that sends it.
    pub host: String,
    /// When the host sent it, Unix milliseconds.
    pub at: i64,
    /// The event itself.
    pub kind: JobEventKind,
}

/// The edge's answer to an accepted event (HTTP 200).
///
/// A refused event gets an error body instead: 409 `stale_attempt` for an older attempt,
/// 409 `job_final` for an event that contradicts a finished job, 404 `job_not_found`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReply {
    /// The job's status after the event.
    pub status: JobStatus,
    /// `claimed`: prepare it; `started`: let it run; `delivering`: send the photo;
    /// `succeeded`/`failed`: recorded.
    pub proceed: bool,
    /// The attempt the edge holds as current.
    pub attempt: u32,
}

/// A GPU host's report of itself, sent every few seconds to
/// `POST /internal/hosts/heartbeat` (signed like the job events). The edge keeps the last
/// one per host and calls a host stale after a few missed beats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostHeartbeat {
    /// Schema version, [`CONTRACT_VERSION`].
    pub v: u32,
    /// The host's name (its consumer name in the jobs group).
    pub host: String,
    /// The gpu-host version.
    pub version: String,
    /// The workflow it runs by default.
    pub workflow: String,
    /// Whether ComfyUI answered its last health check.
    pub comfy_up: bool,
    /// The job it is running now, if any.
    pub current_job: Option<JobId>,
    /// Jobs it finished (succeeded or failed) since it started.
    pub jobs_done: u64,
    /// Mean run time of its recent jobs, milliseconds (none before the first).
    pub run_ms_mean: Option<u64>,
    /// 90th percentile of the same window, milliseconds.
    pub run_ms_p90: Option<u64>,
    /// Share of its uptime the GPU spent running ComfyUI, 0 to 1.
    pub busy_ratio: f64,
    /// When it was sent, Unix milliseconds.
    pub at: i64,
}

/// How many recent runs a heartbeat's run-time figures cover.
pub const HEARTBEAT_WINDOW: usize = 50;

/// Errors reading a contract message.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The JSON did not match the schema.
    #[error("malformed contract JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The message has a schema version this code does not know.
    #[error("unsupported contract version {0}")]
    Version(u32),
}

/// The Redis key that says a job is still waiting: set beside its stream entry when it is
/// enqueued, deleted when the job leaves `queued` (a host starts it, or its owner or an
/// operator cancels it). A host watches it for the jobs it has prepared but the GPU has not
/// begun, and asks the edge (a repeated `claimed`) once it is gone.
pub fn queued_marker_key(stream: &str, job_id: &str) -> String {
    format!("{stream}:enqueued:{job_id}")
}

/// The ComfyUI `prompt_id` for a job's attempt: a UUID v5 derived from both, so a restarted
/// host can find an earlier attempt's run in ComfyUI's `/history`.
pub fn comfy_prompt_id(job_id: &JobId, attempt: u32) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5f0e_6a1c_2b7d_4e8f_9a3b_1c2d_3e4f_5a6b);
    uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("{}/{attempt}", job_id.as_str()).as_bytes(),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> JobMessage {
        JobMessage {
            v: 1,
            job_id: JobId::from("j1"),
            user_id: UserId(7),
            chat_id: ChatId(7),
            file_ids: vec!["f".into()],
            prompt: "p".into(),
            preset_id: None,
            seed: MAX_SEED,
            workflow: "qwen_edit_2511".into(),
            lang: Language::Ru,
            created_at: 1,
        }
    }

    #[test]
    fn job_message_round_trips_and_keeps_large_seed() {
        let msg = sample();
        let back = JobMessage::from_json(msg.to_json().expect("json").as_bytes()).expect("parse");
        assert_eq!(back, msg);
    }

    #[test]
    fn unknown_version_is_refused() {
        let mut msg = sample();
        msg.v = 2;
        let err = JobMessage::from_json(msg.to_json().expect("json").as_bytes()).unwrap_err();
        assert!(matches!(err, ContractError::Version(2)));
    }

    #[test]
    fn event_kind_is_tagged_by_type() {
        let ev = JobEvent {
            v: 1,
            attempt: 2,
            host: "h".into(),
            at: 5,
            kind: JobEventKind::Failed(Failure {
                reason: FailureReason::Timeout,
                user_message: "x".into(),
            }),
        };
        let json = serde_json::to_value(&ev).expect("json");
        assert_eq!(json["kind"]["type"], "failed");
        assert_eq!(json["kind"]["reason"], "timeout");
        assert_eq!(serde_json::from_value::<JobEvent>(json).expect("back"), ev);
    }

    #[test]
    fn prompt_id_is_stable_and_distinct_per_attempt() {
        let a = JobId::from("a");
        assert_eq!(comfy_prompt_id(&a, 1), comfy_prompt_id(&a, 1));
        assert_ne!(comfy_prompt_id(&a, 1), comfy_prompt_id(&a, 2));
        assert!(uuid::Uuid::parse_str(&comfy_prompt_id(&a, 1)).is_ok());
    }
}
