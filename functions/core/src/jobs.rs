//! Jobs: creating an edit (charge + enqueue), reading, cancelling, the gpu-host's events and
//! the sweep that enqueues what never reached the stream.

use serde::{Deserialize, Serialize};

use crate::contract::signing::{self, JOB_SIG_FIELD};
use crate::contract::{
    CONTRACT_VERSION, ChatId, EventReply, FailureReason, JOB_FIELD, JobEvent, JobEventKind, JobId,
    JobMessage, JobStatus, Language, MAX_SEED, UserId,
};
use crate::error::{CoreError, CoreResult};
use crate::ports::{Queue, Sql, SqlError, SqlRow, SqlValue};
use crate::presets;
use crate::prompt::Prompt;
use crate::settings::Settings;
use crate::{ledger, users};

/// Most input photos one edit takes (Qwen-Image-Edit-2511 takes up to 3).
pub const MAX_IMAGES: usize = 3;
/// Longest Telegram file id an edit takes, in bytes (visible ASCII, so also characters).
pub const MAX_FILE_ID_BYTES: usize = 512;
/// How long a job may sit charged but not enqueued before the sweep enqueues it (ms).
pub const SWEEP_GRACE_MS: i64 = 30_000;
/// How long the Redis marker "this job reached the stream" is kept (s).
pub const MARKER_TTL_SECS: u64 = 30 * 86_400;
/// Time to live of the jobs stream, refreshed by every job added (s): a stream nobody adds
/// to any more (a playground run's, a renamed one) disappears instead of staying for ever.
pub const STREAM_TTL_SECS: u64 = 30 * 86_400;
/// The default of `delivery_confirm_secs` (ms): after this long a job whose delivery was
/// granted but never confirmed is closed as succeeded: the photo most likely reached the
/// user, and it must not be charged back or sent twice.
pub const DELIVERY_CONFIRM_TIMEOUT_MS: i64 = 15 * 60_000;

/// A request to create an edit. Its OpenAPI schema is written out in `qwen_http::openapi`
/// (items of `file_ids`, exactly one of `preset_id` and `prompt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewJob {
    /// Telegram id of the (registered) user.
    pub telegram_id: i64,
    /// Chat to deliver to (defaults to the user's private chat).
    #[serde(default)]
    pub chat_id: Option<i64>,
    /// A preset id, or…
    #[serde(default)]
    pub preset_id: Option<String>,
    /// …a custom prompt of 1–500 characters, not only spaces.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Telegram file ids of 1–3 input photos, each 1–[`MAX_FILE_ID_BYTES`] visible ASCII
    /// characters (Telegram's ids are URL-safe base64).
    #[serde(default)]
    pub file_ids: Vec<String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    /// Job id (UUID).
    pub id: JobId,
    /// Owner.
    pub user_id: UserId,
    /// Delivery chat.
    pub chat_id: ChatId,
    /// Preset, if any.
    pub preset_id: Option<String>,
    /// Final prompt.
    pub prompt: String,
    /// Input photos.
    pub file_ids: Vec<String>,
    /// Price charged (0 when free).
    pub cost: i64,
    /// Sampler seed.
    pub seed: i64,
    /// Workflow name.
    pub workflow: String,
    /// User's language.
    pub lang: Language,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// Current attempt (fencing token), 0 before the first start.
    pub attempt: i64,
    /// Machine failure reason.
    pub failure_reason: Option<FailureReason>,
    /// User-facing failure message.
    pub failure_message: Option<String>,
    /// Output metadata of a delivered result.
    pub output: Option<serde_json::Value>,
    /// Unix ms.
    pub created_at: i64,
    /// When the current attempt started, Unix ms.
    pub started_at: Option<i64>,
    /// When it ended, Unix ms.
    pub finished_at: Option<i64>,
    #[serde(skip)]
    #[schema(ignore)]
    seq: i64,
    #[serde(skip)]
    #[schema(ignore)]
    host: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    delivery_attempt: Option<i64>,
}

impl Job {
    /// Whether the job has ended.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }

    /// The message the gpu-host reads from the stream.
    pub fn message(&self) -> JobMessage {
        JobMessage {
            v: CONTRACT_VERSION,
            job_id: self.id.clone(),
            user_id: self.user_id,
            chat_id: self.chat_id,
            file_ids: self.file_ids.clone(),
            prompt: self.prompt.clone(),
            preset_id: self.preset_id.clone(),
            seed: self.seed.max(0) as u64,
            workflow: self.workflow.clone(),
            lang: self.lang,
            created_at: self.created_at,
        }
    }
}

/// The answer to a created job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    /// The job.
    pub job: Job,
    /// Price charged.
    pub cost: i64,
    /// Balance after the charge.
    pub balance_after: i64,
    /// Jobs ahead of this one in the queue.
    pub queue_position: i64,
}

const COLUMNS: &str = "seq, id, user_id, chat_id, preset_id, prompt, file_ids, cost, seed, workflow, lang, status, \
    attempt, failure_reason, failure_message, output, created_at, started_at, finished_at, host, \
    delivery_attempt";

fn json<T: serde::de::DeserializeOwned>(idx: usize, text: &str) -> Result<T, SqlError> {
    serde_json::from_str(text).map_err(|e| SqlError::Decode(format!("column {idx}: {e}")))
}

fn from_row(r: &SqlRow) -> Result<Job, SqlError> {
    Ok(Job {
        seq: r.int(0)?,
        id: JobId(r.text(1)?),
        user_id: UserId(r.int(2)?),
        chat_id: ChatId(r.int(3)?),
        preset_id: r.opt_text(4)?,
        prompt: r.text(5)?,
        file_ids: json(6, &r.text(6)?)?,
        cost: r.int(7)?,
        seed: r.int(8)?,
        workflow: r.text(9)?,
        lang: r.word(10)?,
        status: r.word(11)?,
        attempt: r.int(12)?,
        failure_reason: r.opt_word(13)?,
        failure_message: r.opt_text(14)?,
        output: r.opt_text(15)?.map(|s| json(15, &s)).transpose()?,
        created_at: r.int(16)?,
        started_at: r.opt_int(17)?,
        finished_at: r.opt_int(18)?,
        host: r.opt_text(19)?,
        delivery_attempt: r.opt_int(20)?,
    })
}

fn validate_files(file_ids: &[String]) -> CoreResult<()> {
    if file_ids.is_empty() || file_ids.len() > MAX_IMAGES {
        return Err(CoreError::invalid(
            "invalid_images",
            "an edit takes 1 to 3 photos",
        ));
    }
    let bad = |f: &String| {
        f.is_empty() || f.len() > MAX_FILE_ID_BYTES || !f.bytes().all(|b| b.is_ascii_graphic())
    };
    if file_ids.iter().any(bad) {
        return Err(CoreError::invalid(
            "invalid_images",
            "a Telegram file id is 1 to 512 visible ASCII characters",
        ));
    }
    Ok(())
}

/// What a job will run and cost, before it is written.
struct Plan {
    preset_id: Option<String>,
    prompt: String,
    cost: i64,
    workflow: String,
}

/// The job's preset (when it names one that exists), prompt, price and workflow: the one its
/// preset names, else the deployment's `default_workflow` (custom prompts always use that).
fn plan(settings: &Settings, input: &NewJob, preset: Option<presets::Preset>) -> CoreResult<Plan> {
    validate_files(&input.file_ids)?;
    let (preset_id, prompt, cost, workflow) = match (&input.preset_id, &input.prompt) {
        (Some(id), None) => {
            let p = preset.ok_or_else(|| presets::preset_not_found(id))?;
            (Some(p.id), p.prompt, p.cost, p.workflow)
        }
        (None, Some(prompt)) => (
            None,
            Prompt::parse(prompt)?.into_string(),
            settings.custom_prompt_cost,
            None,
        ),
        _ => {
            return Err(CoreError::invalid(
                "invalid_job",
                "give either preset_id or prompt",
            ));
        }
    };
    Ok(Plan {
        preset_id,
        prompt,
        cost: crate::price::price_for(settings, UserId(input.telegram_id), cost),
        workflow: workflow.unwrap_or_else(|| settings.default_workflow.clone()),
    })
}

/// Creates an edit: checks the preset and balance, writes the job and its charge in one
/// statement, then `XADD`s the job message. When the queue is unreachable the job is marked
/// failed (which refunds the charge) and [`CoreError::QueueUnavailable`] is returned.
///
/// # Errors
/// [`CoreError::Invalid`] (422), [`CoreError::NotFound`] for an unknown user or preset (404),
/// [`CoreError::InsufficientBalance`] (402), [`CoreError::TooManyJobs`] (429),
/// [`CoreError::QueueUnavailable`] (503), storage.
pub async fn create(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    input: &NewJob,
    now_ms: i64,
) -> CoreResult<Created> {
    let (user, preset) = user_and_preset(sql, input).await?;
    let plan = plan(settings, input, preset)?;
    let job = insert(sql, settings, input, &user, plan, now_ms).await?;
    tracing::info!(job_id = %job.id, user_id = job.user_id.0, preset_id = ?job.preset_id, cost = job.cost, "job created");
    if let Err(e) = enqueue(queue, settings, &job).await {
        fail_unqueued(sql, &job, now_ms).await?;
        return Err(e);
    }
    let (balance_after, queue_position) = balance_and_position(sql, &job).await?;
    Ok(Created {
        cost: job.cost,
        balance_after,
        queue_position,
        job,
    })
}

async fn insert(
    sql: &dyn Sql,
    settings: &Settings,
    input: &NewJob,
    user: &users::User,
    plan: Plan,
    now_ms: i64,
) -> CoreResult<Job> {
    let id = uuid::Uuid::new_v4();
    let seed = (id.as_u128() as u64) & MAX_SEED;
    let files = serde_json::to_string(&input.file_ids)
        .map_err(|e| CoreError::Internal(format!("file ids: {e}")))?;
    let cost = plan.cost;
    let args: Vec<SqlValue> = vec![
        id.to_string().into(),
        user.telegram_id.into(),
        input.chat_id.unwrap_or(user.telegram_id).into(),
        plan.preset_id.into(),
        plan.prompt.into(),
        files.into(),
        cost.into(),
        (seed as i64).into(),
        plan.workflow.into(),
        user.language().to_string().into(),
        now_ms.into(),
        settings.max_queued_per_user.into(),
    ];
    // The cap is checked by the INSERT itself, so concurrent requests cannot pass it together.
    let stmt = format!(
        "INSERT INTO jobs (id, user_id, chat_id, preset_id, prompt, file_ids, cost, seed, workflow, lang, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 WHERE ?12 = 0 OR (SELECT COUNT(*) FROM jobs \
         WHERE user_id = ?2 AND status IN ('queued', 'running')) < ?12 RETURNING {COLUMNS}"
    );
    match sql.execute(&stmt, &args).await {
        Ok(rows) => match rows.first() {
            Some(row) => Ok(from_row(row)?),
            None => Err(CoreError::TooManyJobs {
                cap: settings.max_queued_per_user,
            }),
        },
        Err(e) => Err(ledger::balance_error(sql, e, user.telegram_id, cost).await),
    }
}

/// The Redis key that records that `job_id` reached `stream` and is still queued
/// ([`crate::contract::queued_marker_key`]).
pub fn marker_key(stream: &str, job_id: &JobId) -> String {
    crate::contract::queued_marker_key(stream, job_id.as_str())
}

/// Removes the "reached the stream" marker of a job that left `queued`: the sweep's check of
/// never-started jobs reads it, and a host that prepared the job watches it to learn of a
/// cancel before the GPU begins. Redis keeps nothing per finished job. Best effort: a
/// marker left behind expires after [`MARKER_TTL_SECS`] (and a host then learns of the
/// cancel from the edge's answer to `started`).
pub async fn forget_marker(queue: &dyn Queue, settings: &Settings, job_id: &JobId) {
    let key = marker_key(&settings.jobs_stream, job_id);
    if let Err(e) = queue.delete(&[key]).await {
        tracing::debug!(job_id = %job_id, error = %e, "could not remove the job's marker; it expires");
    }
}

/// `XADD`s the job message, signed with the hosts' secret, and its marker atomically. Nothing
/// is written to SQLite here: a job costs one SQLite commit (one fsync), and the sweep finds
/// unmarked jobs in Redis.
async fn enqueue(queue: &dyn Queue, settings: &Settings, job: &Job) -> CoreResult<()> {
    let stream = &settings.jobs_stream;
    let marker = marker_key(stream, &job.id);
    let msg = job
        .message()
        .to_json()
        .map_err(|e| CoreError::Internal(format!("job message: {e}")))?;
    if settings.gpu_event_secret.is_empty() {
        return Err(CoreError::QueueUnavailable(
            "gpu_event_secret is not configured: job messages cannot be signed".into(),
        ));
    }
    let sig = signing::sign_job(settings.gpu_event_secret.as_bytes(), &msg);
    let fields = [(JOB_FIELD, msg.as_str()), (JOB_SIG_FIELD, sig.as_str())];
    let entry = queue
        .add_marked(stream, &marker, &fields, MARKER_TTL_SECS, STREAM_TTL_SECS)
        .await?;
    tracing::debug!(job_id = %job.id, entry = %entry, "job enqueued");
    Ok(())
}

async fn fail_unqueued(sql: &dyn Sql, job: &Job, now_ms: i64) -> CoreResult<()> {
    tracing::warn!(job_id = %job.id, user_id = job.user_id.0, "queue unavailable: job failed and refunded");
    sql.execute(
        "UPDATE jobs SET status = 'failed', failure_reason = ?3, finished_at = ?2 \
         WHERE id = ?1 AND status = 'queued'",
        &[
            job.id.as_str().into(),
            now_ms.into(),
            FailureReason::QueueUnavailable.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// The submitting user and the preset the job names (if it exists), in one read.
async fn user_and_preset(
    sql: &dyn Sql,
    input: &NewJob,
) -> CoreResult<(users::User, Option<presets::Preset>)> {
    let Some(preset_id) = input.preset_id.as_deref() else {
        return Ok((users::get(sql, UserId(input.telegram_id)).await?, None));
    };
    let stmt = format!(
        "SELECT * FROM (SELECT {} FROM users WHERE telegram_id = ?1) \
         LEFT JOIN (SELECT {} FROM presets WHERE id = ?2 AND deleted_at IS NULL) ON 1",
        users::COLUMNS,
        presets::COLUMNS
    );
    let rows = sql
        .execute(&stmt, &[input.telegram_id.into(), preset_id.into()])
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| users::user_not_found(UserId(input.telegram_id)))?;
    let preset_part = SqlRow(
        row.0
            .get(users::COLUMN_COUNT..)
            .unwrap_or_default()
            .to_vec(),
    );
    let preset = match preset_part.opt_text(0)? {
        Some(_) => Some(presets::from_row(&preset_part)?),
        None => None,
    };
    Ok((users::from_row(row)?, preset))
}

/// The owner's balance and the jobs ahead of `job`, in one read.
async fn balance_and_position(sql: &dyn Sql, job: &Job) -> CoreResult<(i64, i64)> {
    let rows = sql
        .execute(
            "SELECT (SELECT balance FROM balances WHERE user_id = ?1), \
                    (SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND seq < ?2)",
            &[job.user_id.0.into(), job.seq.into()],
        )
        .await?;
    match rows.first() {
        Some(r) => Ok((r.opt_int(0)?.unwrap_or(0), r.int(1)?)),
        None => Ok((0, 0)),
    }
}

async fn position(sql: &dyn Sql, seq: i64) -> CoreResult<i64> {
    let rows = sql
        .execute(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND seq < ?1",
            &[seq.into()],
        )
        .await?;
    Ok(crate::db::count(&rows)?)
}

/// A job by id.
///
/// # Errors
/// [`CoreError::NotFound`] (`job_not_found`) or the storage error.
pub async fn get(sql: &dyn Sql, id: &JobId) -> CoreResult<Job> {
    let stmt = format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1");
    let rows = sql.execute(&stmt, &[id.as_str().into()]).await?;
    match rows.first() {
        Some(row) => Ok(from_row(row)?),
        None => Err(job_not_found(id)),
    }
}

fn job_not_found(id: &JobId) -> CoreError {
    CoreError::not_found(
        "job_not_found",
        format!("job {:?} does not exist", id.as_str()),
    )
}

/// Jobs ahead of `job` in the queue (0 when it is not waiting).
///
/// # Errors
/// The storage error.
pub async fn queue_position(sql: &dyn Sql, job: &Job) -> CoreResult<i64> {
    if job.status != JobStatus::Queued {
        return Ok(0);
    }
    position(sql, job.seq).await
}

/// A page of the user's jobs, newest first, and their total.
///
/// # Errors
/// The storage error.
pub async fn list_for_user(
    sql: &dyn Sql,
    user_id: UserId,
    page: crate::Page,
) -> CoreResult<(Vec<Job>, i64)> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM jobs WHERE user_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3"
    );
    let count = "SELECT COUNT(*) FROM jobs WHERE user_id = ?1";
    crate::db::page_of(sql, &stmt, count, user_id.0, page, from_row).await
}

/// The operators' filter of the jobs list: a status and a `[from, to)` window of creation
/// time (Unix ms); `None` means no filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Created at or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
}

/// A page of every user's jobs matching `f`, newest first, and their number.
///
/// # Errors
/// The storage error.
pub async fn admin_list(
    sql: &dyn Sql,
    f: &JobFilter,
    page: crate::Page,
) -> CoreResult<(Vec<Job>, i64)> {
    const WHERE: &str = "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR created_at >= ?2) \
        AND (?3 IS NULL OR created_at < ?3)";
    let args = [
        f.status.map(|s| s.as_str()).into(),
        f.from.into(),
        f.to.into(),
    ];
    let stmt = format!(
        "SELECT {COLUMNS} FROM jobs {WHERE} ORDER BY seq DESC LIMIT {} OFFSET {}",
        page.limit, page.offset
    );
    let rows = sql.execute(&stmt, &args).await?;
    let total = sql
        .execute(&format!("SELECT COUNT(*) FROM jobs {WHERE}"), &args)
        .await?;
    let items = crate::db::all(&rows, from_row)?;
    Ok((items, crate::db::count(&total)?))
}

/// Who cancels a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceller<'a> {
    /// The job's owner (the bot): anyone else's job is "not found".
    Owner(i64),
    /// An operator, named on the job and in the refund's ledger note.
    Operator(&'a str),
    /// The REST API without an operator's name.
    Api,
}

/// Cancels a queued job and refunds it (in the same statement), then removes its queued
/// marker so a host that already prepared it drops it before the GPU begins.
///
/// # Errors
/// [`CoreError::NotFound`], [`CoreError::Conflict`] (`job_not_queued`), storage.
pub async fn cancel(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    id: &JobId,
    by: Canceller<'_>,
    now_ms: i64,
) -> CoreResult<Job> {
    let owner = match by {
        Canceller::Owner(user) => Some(user),
        _ => None,
    };
    let operator = match by {
        Canceller::Operator(name) => Some(name),
        _ => None,
    };
    let job = get(sql, id).await?;
    if owner.is_some_and(|o| o != job.user_id.0) {
        return Err(job_not_found(id));
    }
    let rows = sql
        .execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?2, cancelled_by = ?3 WHERE id = ?1 AND status = 'queued' RETURNING id",
            &[id.as_str().into(), now_ms.into(), operator.into()],
        )
        .await?;
    if rows.is_empty() {
        return Err(CoreError::conflict(
            "job_not_queued",
            format!("job is {}; only a queued job can be cancelled", job.status),
        ));
    }
    tracing::info!(job_id = %id, user_id = job.user_id.0, operator, "job cancelled and refunded");
    forget_marker(queue, settings, id).await;
    get(sql, id).await
}

/// Applies a gpu-host event under the attempt fencing rules (README, "How money and jobs
/// stay right"): only the job's current attempt counts, so a stale host cannot act.
///
/// # Errors
/// [`CoreError::NotFound`], [`CoreError::Conflict`] (`stale_attempt`, `job_final`,
/// `job_not_running`, `delivery_not_granted`), [`CoreError::Invalid`], storage.
pub async fn apply_event(
    sql: &dyn Sql,
    id: &JobId,
    ev: &JobEvent,
    now_ms: i64,
) -> CoreResult<EventReply> {
    if ev.v != CONTRACT_VERSION || ev.attempt == 0 {
        return Err(CoreError::invalid(
            "invalid_event",
            "unsupported event version or attempt 0",
        ));
    }
    let a = i64::from(ev.attempt);
    let moved = match &ev.kind {
        JobEventKind::Claimed => claim(sql, id.as_str(), a, &ev.host).await?,
        JobEventKind::Started => start(sql, id.as_str(), a, &ev.host, now_ms).await?,
        JobEventKind::Delivering => grant_delivery(sql, id.as_str(), a, now_ms).await?,
        JobEventKind::Succeeded(out) => succeed(sql, id.as_str(), a, out, now_ms).await?,
        JobEventKind::Failed(f) => fail(sql, id.as_str(), a, f, now_ms).await?,
    };
    let job = get(sql, id).await?;
    let reply = judge(&job, ev, moved)?;
    tracing::info!(job_id = %id, user_id = job.user_id.0, attempt = a, event = ev.kind.name(), moved,
        proceed = reply.proceed, status = %job.status, "job event");
    Ok(reply)
}

async fn changed(sql: &dyn Sql, stmt: &str, args: &[SqlValue]) -> CoreResult<bool> {
    Ok(!sql.execute(stmt, args).await?.is_empty())
}

/// A host took the entry with attempt `a`: older attempts are fenced out and the job is
/// `queued` — cancellable, with a position — until its GPU run begins (a job whose earlier
/// attempt's host died mid-run is waiting again too).
async fn claim(sql: &dyn Sql, id: &str, a: i64, host: &str) -> CoreResult<bool> {
    changed(
        sql,
        "UPDATE jobs SET status = 'queued', attempt = ?2, host = ?3, started_at = NULL \
         WHERE id = ?1 AND status IN ('queued', 'running') AND delivery_attempt IS NULL AND attempt < ?2 RETURNING id",
        &[id.into(), a.into(), host.into()],
    )
    .await
}

/// The GPU began attempt `a`'s run: the job is `running` from now. The attempt must be the
/// one this host claimed, or a newer one (which fences the older out).
async fn start(sql: &dyn Sql, id: &str, a: i64, host: &str, now: i64) -> CoreResult<bool> {
    changed(
        sql,
        "UPDATE jobs SET status = 'running', attempt = ?2, host = ?3, started_at = ?4 \
         WHERE id = ?1 AND delivery_attempt IS NULL AND (attempt < ?2 AND status IN ('queued', 'running') \
         OR attempt = ?2 AND host = ?3 AND status = 'queued') RETURNING id",
        &[id.into(), a.into(), host.into(), now.into()],
    )
    .await
}

async fn grant_delivery(sql: &dyn Sql, id: &str, a: i64, now: i64) -> CoreResult<bool> {
    changed(
        sql,
        "UPDATE jobs SET delivery_attempt = ?2, delivery_at = ?3 \
         WHERE id = ?1 AND status = 'running' AND attempt = ?2 AND delivery_attempt IS NULL RETURNING id",
        &[id.into(), a.into(), now.into()],
    )
    .await
}

async fn succeed(
    sql: &dyn Sql,
    id: &str,
    a: i64,
    out: &crate::contract::OutputMeta,
    now: i64,
) -> CoreResult<bool> {
    let output =
        serde_json::to_string(out).map_err(|e| CoreError::Internal(format!("output: {e}")))?;
    changed(
        sql,
        "UPDATE jobs SET status = 'succeeded', output = ?3, finished_at = ?4 \
         WHERE id = ?1 AND status = 'running' AND delivery_attempt = ?2 RETURNING id",
        &[id.into(), a.into(), output.into(), now.into()],
    )
    .await
}

async fn fail(
    sql: &dyn Sql,
    id: &str,
    a: i64,
    f: &crate::contract::Failure,
    now: i64,
) -> CoreResult<bool> {
    let reason = f.reason.as_str();
    let message: String = f.user_message.chars().take(1000).collect();
    changed(
        sql,
        "UPDATE jobs SET status = 'failed', attempt = MAX(attempt, ?2), failure_reason = ?3, failure_message = ?4, \
         finished_at = ?5 WHERE id = ?1 AND status IN ('queued', 'running') AND attempt <= ?2 \
         AND (delivery_attempt IS NULL OR delivery_attempt = ?2) RETURNING id",
        &[id.into(), a.into(), reason.into(), message.into(), now.into()],
    )
    .await
}

/// Decides the answer from the job as it is after the (possibly no-op) update.
fn judge(job: &Job, ev: &JobEvent, moved: bool) -> CoreResult<EventReply> {
    let a = i64::from(ev.attempt);
    let reply = |proceed: bool| EventReply {
        status: job.status,
        proceed,
        attempt: job.attempt.max(0) as u32,
    };
    if moved {
        return Ok(reply(true));
    }
    let repeat = match &ev.kind {
        JobEventKind::Claimed => {
            !job.is_final()
                && job.attempt == a
                && job.host.as_deref() == Some(ev.host.as_str())
                && job.delivery_attempt.is_none()
        }
        JobEventKind::Started => {
            job.status == JobStatus::Running
                && job.attempt == a
                && job.host.as_deref() == Some(ev.host.as_str())
                && job.delivery_attempt.is_none()
        }
        JobEventKind::Delivering => {
            job.delivery_attempt == Some(a) && job.status != JobStatus::Failed
        }
        JobEventKind::Succeeded(_) => {
            job.status == JobStatus::Succeeded && job.delivery_attempt == Some(a)
        }
        JobEventKind::Failed(_) => job.status == JobStatus::Failed && job.attempt == a,
    };
    if repeat {
        return Ok(reply(true));
    }
    if matches!(ev.kind, JobEventKind::Claimed | JobEventKind::Started)
        && (job.is_final() || job.attempt >= a || job.delivery_attempt.is_some())
    {
        // A finished or cancelled job, a duplicate delivery of the same attempt, or one whose
        // photo is already on its way: skip it. Only an older attempt is an error.
        if job.attempt > a && !job.is_final() {
            return Err(stale(job, a));
        }
        return Ok(reply(false));
    }
    if job.attempt > a {
        return Err(stale(job, a));
    }
    Err(refusal(job, ev))
}

fn stale(job: &Job, a: i64) -> CoreError {
    CoreError::conflict(
        "stale_attempt",
        format!(
            "attempt {a} is older than the current attempt {}",
            job.attempt
        ),
    )
}

fn refusal(job: &Job, ev: &JobEvent) -> CoreError {
    if job.is_final() {
        return CoreError::conflict("job_final", format!("job is already {}", job.status));
    }
    match ev.kind {
        JobEventKind::Succeeded(_) => CoreError::conflict(
            "delivery_not_granted",
            "delivery was not granted to this attempt",
        ),
        JobEventKind::Delivering if job.delivery_attempt.is_some() => {
            CoreError::conflict("delivery_taken", "another attempt is delivering this job")
        }
        _ => CoreError::conflict(
            "job_not_running",
            format!("job is {} at attempt {}", job.status, job.attempt),
        ),
    }
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct SweepReport {
    /// Queued jobs checked against their Redis markers.
    pub checked: u64,
    /// Jobs that were charged but had never reached the stream (or whose stream Redis lost),
    /// now enqueued.
    pub enqueued: u64,
    /// Jobs whose delivery was granted long ago without confirmation, closed as succeeded.
    pub closed: u64,
    /// Telegram update claims pruned.
    pub pruned_updates: u64,
    /// Running jobs silent for longer than `job_stall_secs`, failed (`stalled`) and refunded.
    pub stalled: u64,
    /// Jobs waiting for a GPU for longer than `job_queue_max_secs`, failed (`stalled`) and
    /// refunded.
    pub expired: u64,
    /// GPU hosts silent for longer than `hosts_keep_days`, forgotten.
    pub hosts_forgotten: u64,
    /// Reconciliation reports older than `reconciliation_keep_days`, deleted.
    pub reports_deleted: u64,
    /// The jobs this sweep ended, so their owners can be told (not part of the answer).
    #[serde(skip)]
    pub ended: Vec<Job>,
}

/// Gives every job an exit and every only-growing table a bound: ends jobs that can wait no
/// longer ([`end_stalled`]), enqueues queued jobs whose "reached the stream" marker is missing
/// in Redis (the instance died between commit and `XADD`, or Redis lost its data), closes
/// deliveries that were never confirmed, and prunes old Telegram update claims, silent hosts
/// and old reconciliation reports.
///
/// # Errors
/// [`CoreError::QueueUnavailable`] when Redis is down (what was done so far stays done), storage.
pub async fn sweep(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    now_ms: i64,
) -> CoreResult<SweepReport> {
    let mut report = end_stalled(sql, settings, now_ms).await?;
    report.closed = close_unconfirmed(sql, now_ms, settings.delivery_confirm_ms).await?;
    report.pruned_updates = crate::updates::prune(sql, now_ms).await?;
    report.hosts_forgotten =
        crate::fleet::forget_silent(sql, now_ms - settings.hosts_keep_ms).await?;
    report.reports_deleted =
        crate::payments::reconcile::prune(sql, now_ms - settings.reconciliation_keep_ms).await?;
    enqueue_unmarked(sql, queue, settings, now_ms, &mut report).await?;
    Ok(report)
}

async fn enqueue_unmarked(
    sql: &dyn Sql,
    queue: &dyn Queue,
    settings: &Settings,
    now_ms: i64,
    report: &mut SweepReport,
) -> CoreResult<()> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM jobs WHERE status = 'queued' AND attempt = 0 AND created_at < ?1 \
         ORDER BY seq LIMIT 500"
    );
    let waiting = sql
        .execute(&stmt, &[(now_ms - SWEEP_GRACE_MS).into()])
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<Job>, SqlError>>()?;
    let keys: Vec<String> = waiting
        .iter()
        .map(|j| marker_key(&settings.jobs_stream, &j.id))
        .collect();
    let present = if keys.is_empty() {
        Vec::new()
    } else {
        queue.exist(&keys).await?
    };
    report.checked = waiting.len() as u64;
    for (job, _) in waiting.iter().zip(&present).filter(|(_, here)| !**here) {
        enqueue(queue, settings, job).await?;
        tracing::warn!(job_id = %job.id, user_id = job.user_id.0, "sweep enqueued a job missing from the stream");
        report.enqueued += 1;
    }
    Ok(())
}

/// Most jobs one sweep ends (the next sweep, a minute later, goes on).
const SWEEP_BATCH: i64 = 200;

/// Fails and refunds (in the same statement) the jobs that can wait no longer, with the
/// reason `stalled` and the user's words in their language: a running job whose host sent no
/// event for `job_stall_secs` (its host died after `started` and no other host took the
/// entry over — a lost stream entry, say — and it was not granted delivery), and a job still
/// queued after `job_queue_max_secs` (no host ever took it).
///
/// # Errors
/// Storage.
pub async fn end_stalled(
    sql: &dyn Sql,
    settings: &Settings,
    now_ms: i64,
) -> CoreResult<SweepReport> {
    let running = format!(
        "UPDATE jobs SET status = 'failed', failure_reason = 'stalled', finished_at = ?1, \
         failure_message = CASE lang WHEN 'en' THEN ?3 ELSE ?4 END WHERE status = 'running' AND id IN \
         (SELECT id FROM jobs WHERE status = 'running' AND delivery_at IS NULL \
         AND COALESCE(started_at, created_at) < ?2 ORDER BY seq LIMIT {SWEEP_BATCH}) RETURNING {COLUMNS}"
    );
    let queued = format!(
        "UPDATE jobs SET status = 'failed', failure_reason = 'stalled', finished_at = ?1, \
         failure_message = CASE lang WHEN 'en' THEN ?3 ELSE ?4 END WHERE status = 'queued' AND id IN \
         (SELECT id FROM jobs WHERE status = 'queued' AND created_at < ?2 ORDER BY seq LIMIT {SWEEP_BATCH}) \
         RETURNING {COLUMNS}"
    );
    let mut report = SweepReport::default();
    let stalled = fail_stalled(sql, &running, now_ms, now_ms - settings.job_stall_ms).await?;
    let expired = fail_stalled(sql, &queued, now_ms, now_ms - settings.job_queue_max_ms).await?;
    report.stalled = stalled.len() as u64;
    report.expired = expired.len() as u64;
    report.ended = stalled.into_iter().chain(expired).collect();
    Ok(report)
}

async fn fail_stalled(sql: &dyn Sql, stmt: &str, now_ms: i64, before: i64) -> CoreResult<Vec<Job>> {
    let words = |lang| qwen_texts::failure::text(lang, FailureReason::Stalled, 0);
    let args = [
        now_ms.into(),
        before.into(),
        words(Language::En).into(),
        words(Language::Ru).into(),
    ];
    let jobs = sql
        .execute(stmt, &args)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<Job>, SqlError>>()?;
    for job in &jobs {
        tracing::warn!(job_id = %job.id, user_id = job.user_id.0, attempt = job.attempt, "job stalled: failed and refunded by the sweep");
    }
    Ok(jobs)
}

async fn close_unconfirmed(sql: &dyn Sql, now_ms: i64, confirm_ms: i64) -> CoreResult<u64> {
    let closed = sql
        .execute(
            "UPDATE jobs SET status = 'succeeded', finished_at = ?1 WHERE status = 'running' \
             AND delivery_at IS NOT NULL AND delivery_at < ?2 RETURNING id",
            &[now_ms.into(), (now_ms - confirm_ms).into()],
        )
        .await?;
    for row in &closed {
        tracing::warn!(job_id = %row.text(0)?, "delivery never confirmed: closed as succeeded");
    }
    Ok(closed.len() as u64)
}
