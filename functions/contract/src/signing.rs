//! HMAC-SHA256 signatures for the gpu-host's calls to `/internal/...`.
//!
//! The signature covers `"{timestamp}.{body}"`; the timestamp (Unix seconds) travels in
//! [`TIMESTAMP_HEADER`], the hex digest as `v1=<hex>` in [`SIGNATURE_HEADER`]. A request whose
//! timestamp is further than [`MAX_SKEW_SECS`] from the receiver's clock is stale. Replaying a
//! fresh, valid request is harmless because every event is idempotent.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the signing time, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-qwen-timestamp";
/// Header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-qwen-signature";
/// How far (seconds) a signing time may be from the receiver's clock.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is absent or unreadable.
    #[error("missing or malformed signature headers")]
    Missing,
    /// The timestamp is outside the allowed skew.
    #[error("stale signature timestamp")]
    Stale,
    /// The digest does not match.
    #[error("bad signature")]
    Bad,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // Only reached if the hmac crate ever rejects a key length; an empty key is still valid.
    <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| std::process::abort())
}

/// Signs `body` at `timestamp`; returns the value for [`SIGNATURE_HEADER`].
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a signature made by [`sign`], in constant time, against the receiver's clock.
///
/// # Errors
/// [`SignatureError::Missing`] for absent or malformed headers, [`SignatureError::Stale`] when
/// the timestamp is off by more than [`MAX_SKEW_SECS`], [`SignatureError::Bad`] otherwise.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let ts: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(SignatureError::Missing)?;
    let given = signature
        .and_then(|s| s.trim().strip_prefix("v1="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Missing)?;
    if (now_secs - ts).abs() > MAX_SKEW_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, ts, body).finalize().into_bytes();
    if bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        Ok(())
    } else {
        Err(SignatureError::Bad)
    }
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

    #[test]
    fn good_signature_verifies() {
        let sig = sign(b"k", 1000, b"{}");
        assert_eq!(verify(b"k", Some("1000"), Some(&sig), b"{}", 1010), Ok(()));
    }

    #[test]
    fn wrong_secret_body_or_time_fails() {
        let sig = sign(b"k", 1000, b"{}");
        assert_eq!(
            verify(b"x", Some("1000"), Some(&sig), b"{}", 1000),
            Err(SignatureError::Bad)
        );
        assert_eq!(
            verify(b"k", Some("1000"), Some(&sig), b"{ }", 1000),
            Err(SignatureError::Bad)
        );
        assert_eq!(
            verify(b"k", Some("1001"), Some(&sig), b"{}", 1000),
            Err(SignatureError::Bad)
        );
    }

    #[test]
    fn stale_and_missing_are_refused() {
        let sig = sign(b"k", 1000, b"{}");
        assert_eq!(
            verify(b"k", Some("1000"), Some(&sig), b"{}", 1301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"k", None, Some(&sig), b"{}", 1000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(b"k", Some("1000"), Some("zz"), b"{}", 1000),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn secret_eq_refuses_empty_expected() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("", ""));
        assert_eq!(redact("123456789"), "1234…");
    }
}
