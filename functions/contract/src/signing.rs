//! HMAC-SHA256 signatures between the edge and the GPU hosts, with the shared
//! `gpu_event_secret`.
//!
//! * **The hosts' calls to `/internal/...`**: the signature covers
//!   `"{timestamp}\n{METHOD}\n{path}\n{body}"`, so a signature made for one job's events (or for
//!   a heartbeat) is refused on any other path. The timestamp (Unix seconds) travels in
//!   [`TIMESTAMP_HEADER`], the hex digest as `v2=<hex>` in [`SIGNATURE_HEADER`]. A request whose
//!   timestamp is further than [`MAX_SKEW_SECS`] from the receiver's clock is stale. Replaying
//!   a fresh, valid request on its own path is harmless because every event is idempotent.
//! * **The job messages on the stream**: the edge signs each message's JSON
//!   ([`sign_job`], field [`JOB_SIG_FIELD`] beside the message); a host runs only an entry
//!   whose signature verifies ([`verify_job`]), so writing to Redis is not enough to run a
//!   paid edit or to send a photo to a chat.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the signing time, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-qwen-timestamp";
/// Header carrying `v2=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-qwen-signature";
/// How far (seconds) a signing time may be from the receiver's clock.
pub const MAX_SKEW_SECS: i64 = 300;
/// Redis stream field that carries the job message's signature (`v1=<hex>`).
pub const JOB_SIG_FIELD: &str = "sig";

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is absent or unreadable.
    #[error("missing or malformed signature")]
    Missing,
    /// The timestamp is outside the allowed skew.
    #[error("stale signature timestamp")]
    Stale,
    /// The digest does not match.
    #[error("bad signature")]
    Bad,
}

fn mac(secret: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(b"\n");
        }
        mac.update(part);
    }
    mac
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // Only reached if the hmac crate ever rejects a key length; an empty key is still valid.
    <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| std::process::abort())
}

fn request_mac(
    secret: &[u8],
    timestamp: i64,
    method: &str,
    path: &str,
    body: &[u8],
) -> Hmac<Sha256> {
    let ts = timestamp.to_string();
    let method = method.to_ascii_uppercase();
    mac(
        secret,
        &[ts.as_bytes(), method.as_bytes(), path.as_bytes(), body],
    )
}

/// Signs a request (`method`, `path` without the query, `body`) at `timestamp`; returns the
/// value for [`SIGNATURE_HEADER`].
pub fn sign(secret: &[u8], timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    let digest = request_mac(secret, timestamp, method, path, body).finalize();
    format!("v2={}", hex::encode(digest.into_bytes()))
}

/// Checks a signature made by [`sign`], in constant time, against the receiver's clock.
///
/// # Errors
/// [`SignatureError::Missing`] for absent or malformed headers, [`SignatureError::Stale`] when
/// the timestamp is off by more than [`MAX_SKEW_SECS`] (any timestamp, however far, is
/// compared without overflow), [`SignatureError::Bad`] otherwise.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    request: (&str, &str, &[u8]),
    now_secs: i64,
) -> Result<(), SignatureError> {
    let (method, path, body) = request;
    let ts: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(SignatureError::Missing)?;
    let given = digest_of(signature, "v2=")?;
    let skew = i128::from(now_secs) - i128::from(ts);
    if skew.abs() > i128::from(MAX_SKEW_SECS) {
        return Err(SignatureError::Stale);
    }
    let expected = request_mac(secret, ts, method, path, body)
        .finalize()
        .into_bytes();
    equal(&expected, &given)
}

fn digest_of(signature: Option<&str>, prefix: &str) -> Result<Vec<u8>, SignatureError> {
    signature
        .and_then(|s| s.trim().strip_prefix(prefix))
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Missing)
}

fn equal(expected: &[u8], given: &[u8]) -> Result<(), SignatureError> {
    if bool::from(expected.ct_eq(given)) {
        Ok(())
    } else {
        Err(SignatureError::Bad)
    }
}

/// Signs a job message's JSON as it is put on the stream; the value of [`JOB_SIG_FIELD`].
pub fn sign_job(secret: &[u8], job_json: &str) -> String {
    let digest = mac(secret, &[b"job", job_json.as_bytes()]).finalize();
    format!("v1={}", hex::encode(digest.into_bytes()))
}

/// Checks a job message's signature made by [`sign_job`], in constant time.
///
/// # Errors
/// [`SignatureError::Missing`] for an absent or malformed signature, [`SignatureError::Bad`]
/// when it was not made with this secret over exactly this JSON.
pub fn verify_job(
    secret: &[u8],
    job_json: &str,
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let given = digest_of(signature, "v1=")?;
    let expected = mac(secret, &[b"job", job_json.as_bytes()])
        .finalize()
        .into_bytes();
    equal(&expected, &given)
}

/// Compares two secrets in constant time (for bearer tokens and webhook secrets).
pub fn secret_eq(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The first 4 characters of a secret, for logs; never more.
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV: (&str, &str, &[u8]) = ("POST", "/internal/jobs/a/events", b"{}");

    #[test]
    fn good_signature_verifies() {
        let sig = sign(b"k", 1000, "POST", "/internal/jobs/a/events", b"{}");
        assert_eq!(verify(b"k", Some("1000"), Some(&sig), EV, 1010), Ok(()));
        let lower = sign(b"k", 1000, "post", "/internal/jobs/a/events", b"{}");
        assert_eq!(lower, sig);
    }

    #[test]
    fn wrong_secret_body_time_method_or_path_fails() {
        let sig = sign(b"k", 1000, "POST", "/internal/jobs/a/events", b"{}");
        let bad = |secret: &[u8], ts: &str, req: (&str, &str, &[u8])| {
            verify(secret, Some(ts), Some(&sig), req, 1000)
        };
        assert_eq!(bad(b"x", "1000", EV), Err(SignatureError::Bad));
        assert_eq!(
            bad(b"k", "1000", ("POST", "/internal/jobs/a/events", b"{ }")),
            Err(SignatureError::Bad)
        );
        assert_eq!(bad(b"k", "1001", EV), Err(SignatureError::Bad));
        assert_eq!(
            bad(b"k", "1000", ("POST", "/internal/jobs/b/events", b"{}")),
            Err(SignatureError::Bad)
        );
        assert_eq!(
            bad(b"k", "1000", ("POST", "/internal/hosts/heartbeat", b"{}")),
            Err(SignatureError::Bad)
        );
        assert_eq!(
            bad(b"k", "1000", ("PUT", "/internal/jobs/a/events", b"{}")),
            Err(SignatureError::Bad)
        );
    }

    #[test]
    fn stale_missing_and_extreme_timestamps_are_refused() {
        let sig = sign(b"k", 1000, "POST", "/internal/jobs/a/events", b"{}");
        assert_eq!(
            verify(b"k", Some("1000"), Some(&sig), EV, 1301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"k", None, Some(&sig), EV, 1000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(b"k", Some("1000"), Some("zz"), EV, 1000),
            Err(SignatureError::Missing)
        );
        let old = sig.replacen("v2=", "v1=", 1);
        assert_eq!(
            verify(b"k", Some("1000"), Some(&old), EV, 1000),
            Err(SignatureError::Missing)
        );
        for (ts, now) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (i64::MIN, 0)] {
            let t = ts.to_string();
            assert_eq!(
                verify(b"k", Some(&t), Some(&sig), EV, now),
                Err(SignatureError::Stale)
            );
        }
    }

    #[test]
    fn job_signature_covers_the_whole_message() {
        let json = r#"{"v":1,"job_id":"a","chat_id":7}"#;
        let sig = sign_job(b"k", json);
        assert_eq!(verify_job(b"k", json, Some(&sig)), Ok(()));
        assert_eq!(
            verify_job(b"k", &json.replace("7", "8"), Some(&sig)),
            Err(SignatureError::Bad)
        );
        assert_eq!(verify_job(b"x", json, Some(&sig)), Err(SignatureError::Bad));
        assert_eq!(verify_job(b"k", json, None), Err(SignatureError::Missing));
        // A request signature over the same bytes is not a job signature.
        let req = sign(b"k", 0, "POST", "/", json.as_bytes()).replacen("v2=", "v1=", 1);
        assert_eq!(verify_job(b"k", json, Some(&req)), Err(SignatureError::Bad));
    }

    #[test]
    fn secret_eq_refuses_empty_expected() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("", ""));
        assert_eq!(redact("123456789"), "1234…");
    }
}
