//! One job through the three stages.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use qwen_contract::{
    Failure, FailureReason, JobEventKind, JobMessage, Language, OutputMeta, SentAs, comfy_prompt_id,
};
use serde_json::Value;
use tracing::Instrument;

use super::host::Host;
use crate::comfy::run::from_history;
use crate::comfy::{ComfyError, ImageRef, RunOutcome};
use crate::events::{EventError, EventOutcome, now_ms};
use crate::queue::Entry;
use crate::retention::Scope;
use crate::telegram::{MAX_DOWNLOAD_BYTES, TgError, send_result};
use crate::text;

/// One job's identity and user-facing state.
pub struct Ctx {
    /// The stream entry.
    pub entry_id: String,
    /// The job message.
    pub msg: JobMessage,
    /// This run's attempt number (the entry's delivery count).
    pub attempt: u32,
    /// When the host took the job.
    pub taken: Instant,
    /// The status message being edited as a progress bar.
    pub status_msg: Cell<Option<i64>>,
}

/// A job ready for the GPU (or already done by an earlier attempt).
pub struct Prepared {
    /// The job.
    pub ctx: Ctx,
    /// The graph to queue.
    pub graph: Value,
    /// The node whose images are the result.
    pub output_node: String,
    /// An earlier attempt's finished run, found in `/history`.
    pub finished: Option<(String, RunOutcome)>,
    /// An earlier attempt's prompt still queued or running in ComfyUI: waited for, not
    /// run again.
    pub adopt: Option<String>,
    /// The normalized inputs as uploaded (name, PNG), kept to upload again should ComfyUI
    /// restart and lose them.
    pub inputs: Vec<(String, Vec<u8>)>,
}

/// An earlier attempt's run found in ComfyUI.
enum Earlier {
    /// Finished well: deliver its output.
    Finished(String, RunOutcome),
    /// Still queued or running: wait for it.
    Running(String),
}

/// What ended a job early.
pub(super) struct Fail(pub(super) FailureReason);

/// Claims a stale entry, else reads a new one (blocking a short while).
pub async fn next_entry(host: &Host) -> Option<Entry> {
    let res = match host.queue.claim_stale(host.settings.visibility).await {
        Ok(Some(e)) => Ok(Some(e)),
        Ok(None) => host.queue.read_new(host.settings.read_block).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(Some(e)) => {
            host.metrics.queue_lag(e.age_ms(now_ms()));
            host.held.borrow_mut().insert(e.id.clone());
            Some(e)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "reading the jobs stream failed");
            tokio::time::sleep(host.settings.retry.base_delay).await;
            None
        }
    }
}

/// Acks (if still ours) and forgets an entry, then deletes the job's files on this machine
/// as `scope` says ([`crate::retention`]).
async fn finish(host: &Host, ctx: &Ctx, outcome: &str, scope: Scope) {
    host.release(&ctx.entry_id);
    host.retention.ended(
        ctx.msg.job_id.as_str(),
        ctx.attempt,
        ctx.msg.file_ids.len(),
        scope,
    );
    if let Err(e) = host.queue.ack(&ctx.entry_id).await {
        tracing::warn!(job_id = %ctx.msg.job_id, error = %e, "XACK failed; the entry will be redelivered");
    }
    host.metrics.job(outcome, ctx.taken.elapsed());
    if scope == Scope::Job {
        let prompts = (1..=ctx.attempt).map(|a| comfy_prompt_id(&ctx.msg.job_id, a));
        host.history.finished(prompts);
    }
}

/// Stage 1: from a stream entry to a job ready for the GPU; `None` when the job ended here.
pub async fn prepare(host: &Host, entry: Entry) -> Option<Prepared> {
    let msg = super::admit::admit(host, &entry).await?;
    let ctx = Ctx {
        entry_id: entry.id.clone(),
        attempt: entry.deliveries,
        msg,
        taken: Instant::now(),
        status_msg: Cell::new(None),
    };
    host.retention.begin(ctx.msg.job_id.as_str());
    let span = ctx.span();
    ctx.start(host, &entry).instrument(span).await
}

impl Ctx {
    /// The tracing span of this job's run.
    pub(super) fn span(&self) -> tracing::Span {
        tracing::info_span!("job", job_id = %self.msg.job_id, user_id = self.msg.user_id.0, attempt = self.attempt)
    }

    /// Checks the delivery count, reports `claimed` (the job stays queued and cancellable
    /// until the GPU begins it), then gets the inputs ready.
    async fn start(self, host: &Host, entry: &Entry) -> Option<Prepared> {
        if self.attempt > host.settings.max_deliveries {
            tracing::error!("delivered too often: dead-lettering and failing the job");
            dead_letter(host, entry, FailureReason::RedeliveryLimit.as_str()).await;
            self.fail(host, FailureReason::RedeliveryLimit).await;
            return None;
        }
        if !self.event_says_go(host, JobEventKind::Claimed).await {
            return None;
        }
        match self.ready(host).await {
            Ok(p) => Some(p),
            Err(Fail(why)) => {
                self.fail(host, why).await;
                None
            }
        }
    }
}

/// Copies the entry to the dead-letter stream (the caller acks it once the job is settled).
async fn dead_letter(host: &Host, entry: &Entry, why: &str) -> bool {
    match host.queue.dead_letter(entry, why).await {
        Ok(()) => {
            host.metrics.job("dead_lettered", Duration::ZERO);
            true
        }
        Err(e) => {
            tracing::error!(entry = %entry.id, error = %e, "dead-lettering failed");
            false
        }
    }
}

/// A refused event ends the whole job only when the job is already final; otherwise
/// another attempt owns it and may still need the job's output.
fn refused_scope(code: &str) -> Scope {
    if code == "job_final" {
        Scope::Job
    } else {
        Scope::Attempt
    }
}

/// The failure a download error ends the job with: the file over the bots' limit, Telegram
/// refusing the file, the user gone, or Telegram unreachable.
fn download_failure(e: TgError) -> Fail {
    tracing::warn!(error = %e, "input download failed");
    Fail(match e {
        TgError::TooLarge(_) => FailureReason::InputTooLarge,
        TgError::Blocked => FailureReason::TelegramBlocked,
        TgError::Transient(_) => FailureReason::RetriesExhausted,
        TgError::Permanent(_) => FailureReason::BadInput,
    })
}

/// Checks and normalizes one input off the runtime's thread (decoding a large image takes a
/// while; the running job's websocket and heartbeats go on meanwhile).
async fn normalized(bytes: Vec<u8>, max_megapixels: u32) -> Result<Vec<u8>, Fail> {
    let res = tokio::task::spawn_blocking(move || crate::input::normalize(&bytes, max_megapixels))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the input check stopped");
            Fail(FailureReason::InputUndecodable)
        })?;
    res.map_err(|e| {
        tracing::warn!(error = %e, "input image refused");
        Fail(e.reason())
    })
}

/// Uploads one input under `name` (overwriting), with retries; the name ComfyUI gave.
pub(super) async fn upload(
    host: &Host,
    job_id: &str,
    name: &str,
    png: &[u8],
) -> Result<String, ComfyError> {
    host.settings
        .retry
        .run("upload", job_id, || {
            host.comfy.upload_image(name, png.to_vec())
        })
        .await
}

/// A run that ended well a moment ago, with the websocket up, stands for the health check
/// and saves a round trip between two jobs.
pub(super) fn fresh_run(host: &Host) -> bool {
    host.watcher.connected()
        && host
            .last_run_end
            .get()
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
}

/// The failure a ComfyUI error ends the job with.
pub(super) fn reason_of(e: &ComfyError) -> FailureReason {
    match e {
        ComfyError::Validation(_) => FailureReason::ComfyValidation,
        ComfyError::Timeout => FailureReason::Timeout,
        ComfyError::Execution(_) | ComfyError::Interrupted | ComfyError::Other(_) => {
            FailureReason::ComfyExecution
        }
        ComfyError::Unavailable(_) | ComfyError::Lost => FailureReason::RetriesExhausted,
    }
}

impl Ctx {
    fn lang(&self) -> Language {
        self.msg.lang
    }

    /// Sends an event; `true` when the edge says go on. Every other answer ends the job
    /// here (acked, or left pending when the api cannot be reached).
    pub(super) async fn event_says_go(&self, host: &Host, kind: JobEventKind) -> bool {
        let name = kind.name();
        match host
            .events
            .send(self.msg.job_id.as_str(), self.attempt, kind)
            .await
        {
            Ok(EventOutcome::Accepted(r)) if r.proceed => true,
            Ok(EventOutcome::Accepted(r)) => {
                tracing::info!(event = name, status = %r.status, "edge says stop: acking");
                // Final, or an older attempt was granted the delivery (its host fetched the
                // photo before asking, and no other attempt may deliver): nobody needs the
                // job's files any more. Otherwise another attempt owns the job.
                let scope = if r.status.is_final() || r.attempt < self.attempt {
                    Scope::Job
                } else {
                    Scope::Attempt
                };
                finish(host, self, "skipped", scope).await;
                false
            }
            Ok(EventOutcome::Refused(code)) => {
                tracing::warn!(event = name, %code, "another attempt owns the job: stopping");
                finish(host, self, "skipped", refused_scope(&code)).await;
                false
            }
            Ok(EventOutcome::NotFound) => {
                tracing::warn!(event = name, "edge does not know the job: dropping");
                finish(host, self, "skipped", Scope::Job).await;
                false
            }
            Err(e) => {
                self.abandon(host, name, &e);
                false
            }
        }
    }

    fn abandon(&self, host: &Host, what: &str, e: &EventError) {
        tracing::error!(event = what, error = %e, "api unreachable: leaving the entry pending for a later delivery");
        self.give_back(host, "api unreachable");
    }

    /// Stops working on the job without settling it: the entry stays pending (no ack) and
    /// another delivery — on this host or another — takes it up, finding any run of it in
    /// ComfyUI's history.
    pub(super) fn give_back(&self, host: &Host, why: &str) {
        tracing::warn!(
            why,
            "giving the job back: its entry stays pending for a later delivery"
        );
        host.release(&self.entry_id);
        host.retention.forget(self.msg.job_id.as_str());
        host.metrics.job("abandoned", self.taken.elapsed());
    }

    /// Acks and forgets the job's entry, deleting its files as `scope` says.
    pub(super) async fn settle(&self, host: &Host, outcome: &str, scope: Scope) {
        finish(host, self, outcome, scope).await;
    }

    /// Downloads and uploads the inputs, or finds an earlier attempt's finished run.
    async fn ready(&self, host: &Host) -> Result<Prepared, Fail> {
        let template = host.workflows.get(&self.msg.workflow).map_err(|e| {
            tracing::error!(error = %e, "no such workflow");
            // The host cannot run this job's workflow: nothing the user's photo did.
            Fail(FailureReason::ComfyValidation)
        })?;
        crate::input::check_count(self.msg.file_ids.len(), template.max_images()).map_err(|e| {
            tracing::warn!(error = %e, "too many input images");
            Fail(e.reason())
        })?;
        let output_node = template.output_node().to_owned();
        let (finished, adopt) = match self.earlier_run(host, &output_node).await {
            Some(Earlier::Finished(pid, outcome)) => (Some((pid, outcome)), None),
            Some(Earlier::Running(pid)) => (None, Some(pid)),
            None => (None, None),
        };
        let (graph, inputs) = match finished {
            Some(_) => (Value::Null, Vec::new()),
            None => {
                let inputs = self.inputs(host).await?;
                let names: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
                (self.graph(template, &names)?, inputs)
            }
        };
        Ok(Prepared {
            ctx: self.clone_ctx(),
            graph,
            output_node,
            finished,
            adopt,
            inputs,
        })
    }

    /// The job's graph: the template with its images, prompt, seed and output prefix.
    fn graph(
        &self,
        template: &crate::workflow::Template,
        images: &[String],
    ) -> Result<Value, Fail> {
        let prefix = crate::retention::output_prefix(self.msg.job_id.as_str());
        let job = crate::workflow::JobInputs {
            images,
            prompt: &self.msg.prompt,
            seed: self.msg.seed,
            output_prefix: &prefix,
        };
        template.build(&job).map_err(|e| {
            tracing::error!(error = %e, "cannot build the workflow");
            Fail(FailureReason::ComfyValidation)
        })
    }

    fn clone_ctx(&self) -> Ctx {
        Ctx {
            entry_id: self.entry_id.clone(),
            msg: self.msg.clone(),
            attempt: self.attempt,
            taken: self.taken,
            status_msg: Cell::new(self.status_msg.get()),
        }
    }

    /// An earlier attempt's run that finished well (delivered, not run again), or one still
    /// queued or running in ComfyUI (waited for, not run again).
    async fn earlier_run(&self, host: &Host, output_node: &str) -> Option<Earlier> {
        for a in (1..=self.attempt).rev() {
            let pid = comfy_prompt_id(&self.msg.job_id, a);
            if let Ok(Some(entry)) = host.comfy.history(&pid).await
                && let Ok(outcome) = from_history(&entry, Some(output_node))
            {
                tracing::info!(
                    earlier_attempt = a,
                    "found a finished run in ComfyUI history: delivering it"
                );
                return Some(Earlier::Finished(pid, outcome));
            }
            if a < self.attempt && host.comfy.in_queue(&pid).await.unwrap_or(false) {
                tracing::info!(
                    earlier_attempt = a,
                    "an earlier attempt's run is still in ComfyUI: waiting for it"
                );
                return Some(Earlier::Running(pid));
            }
        }
        None
    }

    /// Shows (or updates) the status message; 403 ends the job.
    pub(super) async fn status(&self, host: &Host, percent: u32) -> Result<(), Fail> {
        let text = text::progress(self.lang(), percent);
        let res = match self.status_msg.get() {
            Some(id) => host.tg.edit_text(self.msg.chat_id.0, id, &text).await,
            None => host
                .tg
                .send_text(self.msg.chat_id.0, &text)
                .await
                .map(|id| self.status_msg.set(Some(id))),
        };
        match res {
            Err(TgError::Blocked) => Err(Fail(FailureReason::TelegramBlocked)),
            Err(e) => {
                tracing::warn!(error = %e, "status message failed");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// Downloads every input image from Telegram, checks and normalizes each
    /// ([`crate::input`]), then uploads the normalized PNGs to ComfyUI under the host's own
    /// names ([`crate::retention::input_name`]). Returns the names ComfyUI gave and the PNGs.
    async fn inputs(&self, host: &Host) -> Result<Vec<(String, Vec<u8>)>, Fail> {
        let mut images = Vec::with_capacity(self.msg.file_ids.len());
        for file_id in &self.msg.file_ids {
            let bytes = host
                .tg
                .download(file_id, MAX_DOWNLOAD_BYTES)
                .await
                .map_err(download_failure)?;
            images.push(normalized(bytes, host.settings.max_megapixels).await?);
        }
        let mut named = Vec::with_capacity(images.len());
        for (i, png) in images.into_iter().enumerate() {
            let name = crate::retention::input_name(self.msg.job_id.as_str(), self.attempt, i);
            let uploaded = upload(host, self.msg.job_id.as_str(), &name, &png)
                .await
                .map_err(|_| Fail(FailureReason::RetriesExhausted))?;
            named.push((uploaded, png));
        }
        Ok(named)
    }

    /// Stage 3: fetch the output, ask `delivering`, send it, report `succeeded`, ack.
    pub(super) async fn deliver(&self, host: &Host, prompt_id: &str, outcome: &RunOutcome) {
        let Some(image) = outcome.images.first() else {
            return self.fail(host, FailureReason::ComfyExecution).await;
        };
        let bytes = match self.fetch(host, image).await {
            Ok(b) => b,
            Err(why) => return self.fail(host, why).await,
        };
        if !self.event_says_go(host, JobEventKind::Delivering).await {
            return;
        }
        let size = bytes.len() as u64;
        let sent_as = match self.send(host, bytes).await {
            Ok(how) => how,
            Err(why) => return self.fail(host, why).await,
        };
        let meta = OutputMeta {
            comfy_prompt_id: prompt_id.to_owned(),
            bytes: size,
            sent_as,
            run_ms: self.taken.elapsed().as_millis() as u64,
        };
        self.final_event(host, JobEventKind::Succeeded(meta), "succeeded")
            .await;
        // The photo is there: the status bar is finished off last, off the critical path.
        self.clear_status(host).await;
    }

    /// Sends the result to the chat; the failure reason when it cannot.
    async fn send(&self, host: &Host, bytes: Vec<u8>) -> Result<SentAs, FailureReason> {
        let name = format!("{}.png", self.msg.job_id);
        let caption = text::done(self.lang());
        send_result(host.tg.as_ref(), self.msg.chat_id.0, &name, bytes, &caption)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "sending the result failed");
                match e {
                    TgError::Blocked => FailureReason::TelegramBlocked,
                    _ => FailureReason::RetriesExhausted,
                }
            })
    }

    async fn fetch(&self, host: &Host, image: &ImageRef) -> Result<Vec<u8>, FailureReason> {
        host.settings
            .retry
            .run("view", self.msg.job_id.as_str(), || host.comfy.view(image))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "fetching the output failed");
                FailureReason::RetriesExhausted
            })
    }

    async fn clear_status(&self, host: &Host) {
        if let Some(id) = self.status_msg.get() {
            let _ = host
                .tg
                .edit_text(self.msg.chat_id.0, id, &text::progress(self.lang(), 100))
                .await;
        }
    }

    /// Reports `succeeded`/`failed`; acks unless the api could not be reached.
    async fn final_event(&self, host: &Host, kind: JobEventKind, outcome: &str) -> bool {
        let name = kind.name();
        match host
            .events
            .send(self.msg.job_id.as_str(), self.attempt, kind)
            .await
        {
            Ok(EventOutcome::Accepted(_)) => {
                tracing::info!(event = name, "job finished");
                finish(host, self, outcome, Scope::Job).await;
                true
            }
            Ok(other) => {
                tracing::warn!(event = name, answer = ?other, "edge refused the final event: acking");
                let scope = match &other {
                    EventOutcome::Refused(code) => refused_scope(code),
                    _ => Scope::Job,
                };
                finish(host, self, "skipped", scope).await;
                false
            }
            Err(e) => {
                self.abandon(host, name, &e);
                false
            }
        }
    }

    /// Reports `failed` (the edge refunds), then tells the user in plain words and acks.
    pub async fn fail(&self, host: &Host, why: FailureReason) {
        let words = text::failure(self.lang(), why, host.settings.max_megapixels);
        let failure = Failure {
            reason: why,
            user_message: words.clone(),
        };
        tracing::warn!(reason = %why, "job failed");
        if self
            .final_event(host, JobEventKind::Failed(failure), "failed")
            .await
            && why != FailureReason::TelegramBlocked
        {
            let shown = match self.status_msg.get() {
                Some(id) => host.tg.edit_text(self.msg.chat_id.0, id, &words).await,
                None => host
                    .tg
                    .send_text(self.msg.chat_id.0, &words)
                    .await
                    .map(|_| ()),
            };
            if let Err(e) = shown {
                tracing::warn!(error = %e, "could not tell the user about the failure");
            }
        }
    }
}

/// Edits the status message as a progress bar, at most once a second, in the background.
pub(super) struct ProgressBar {
    host: Rc<Host>,
    chat_id: i64,
    message_id: Option<i64>,
    lang: Language,
    shown: Cell<u32>,
}

impl ProgressBar {
    pub(super) fn new(host: Rc<Host>, ctx: &Ctx) -> Self {
        Self {
            host,
            chat_id: ctx.msg.chat_id.0,
            message_id: ctx.status_msg.get(),
            lang: ctx.msg.lang,
            shown: Cell::new(0),
        }
    }

    pub(super) fn update(&self, value: u64, max: u64) {
        let Some(message_id) = self.message_id else {
            return;
        };
        let percent = (value.saturating_mul(100) / max.max(1)).min(99) as u32;
        if percent == self.shown.get() || !self.host.edit_due(self.chat_id) {
            return;
        }
        self.shown.set(percent);
        let (host, chat, text) = (
            self.host.clone(),
            self.chat_id,
            text::progress(self.lang, percent),
        );
        tokio::task::spawn_local(async move {
            let _ = host.tg.edit_text(chat, message_id, &text).await;
        });
    }
}
