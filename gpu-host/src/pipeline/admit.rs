//! Which stream entries may run: only those the edge signed.
//!
//! An entry without a `sig`, or with one the shared secret did not make, is dead-lettered
//! (`unsigned` / `bad_signature`), acked, logged at error and counted — and nothing else: it
//! is never run and never reported as any job's event, so a forged entry can neither run a
//! paid edit nor fail somebody's job. A signed entry that cannot be parsed (bad JSON, unknown
//! version) is the edge's own: its `job_id` is read leniently and the job reported `failed`
//! (`unreadable_message`, the edge refunds once), then the entry is dead-lettered and acked.

use qwen_contract::signing::SignatureError;
use qwen_contract::{Failure, FailureReason, JobEventKind, JobMessage, Language};
use serde_json::Value;

use super::host::Host;
use crate::events::EventOutcome;
use crate::queue::Entry;
use crate::text;

/// The job message of a signed, readable entry; `None` when the entry was dealt with here.
pub async fn admit(host: &Host, entry: &Entry) -> Option<JobMessage> {
    let json = entry.job.as_deref().unwrap_or("");
    if let Err(e) = host.events.verify_job(json, entry.sig.as_deref()) {
        reject(host, entry, &e).await;
        return None;
    }
    match JobMessage::from_json(json.as_bytes()) {
        Ok(msg) => Some(msg),
        Err(e) => {
            tracing::error!(entry = %entry.id, error = %e, "signed but unreadable job message");
            unreadable(host, entry, json).await;
            None
        }
    }
}

/// Dead-letters and acks a forged entry, counted under its reason: `unsigned` without a
/// `sig` field, `bad_signature` for any other (malformed or wrong) one.
async fn reject(host: &Host, entry: &Entry, e: &SignatureError) {
    let unsigned = entry.sig.as_deref().is_none_or(|s| s.trim().is_empty());
    let reason = if unsigned {
        "unsigned"
    } else {
        "bad_signature"
    };
    tracing::error!(entry = %entry.id, reason, error = %e, "job entry not signed by the edge: dead-lettering, not running it");
    host.metrics.rejected(reason);
    settle(host, entry, reason).await;
}

/// Reports a signed but unreadable entry's job as failed (when its id can be read), then
/// dead-letters and acks the entry. When the edge cannot be reached the entry stays pending
/// for a later delivery.
async fn unreadable(host: &Host, entry: &Entry, json: &str) {
    let lenient: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    if let Some(job_id) = lenient["job_id"].as_str() {
        let lang = lenient["lang"]
            .as_str()
            .and_then(|l| l.parse().ok())
            .unwrap_or(Language::Ru);
        let why = FailureReason::UnreadableMessage;
        let failure = Failure {
            reason: why,
            user_message: text::failure(lang, why, host.settings.max_megapixels),
        };
        let kind = JobEventKind::Failed(failure);
        match host.events.send(job_id, entry.deliveries, kind).await {
            Ok(EventOutcome::Accepted(_)) => {
                tracing::warn!(job_id, entry = %entry.id, "unreadable job message: job failed")
            }
            Ok(other) => {
                tracing::warn!(job_id, entry = %entry.id, answer = ?other, "edge refused the failure of an unreadable job message")
            }
            Err(e) => {
                tracing::error!(job_id, entry = %entry.id, error = %e, "api unreachable: leaving the unreadable entry pending");
                host.release(&entry.id);
                return;
            }
        }
    }
    settle(host, entry, "unreadable").await;
}

/// Dead-letters, then (only once that worked) acks and forgets the entry.
async fn settle(host: &Host, entry: &Entry, reason: &str) {
    match host.queue.dead_letter(entry, reason).await {
        Ok(()) => {
            host.metrics.job("dead_lettered", std::time::Duration::ZERO);
            host.release(&entry.id);
            if let Err(e) = host.queue.ack(&entry.id).await {
                tracing::warn!(entry = %entry.id, error = %e, "XACK of a dead-lettered entry failed");
            }
        }
        Err(e) => {
            tracing::error!(entry = %entry.id, error = %e, "dead-lettering failed; the entry stays pending");
            host.release(&entry.id);
        }
    }
}
