//! Operator passwords: PBKDF2-HMAC-SHA256, stored as
//! `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` and compared in constant time.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use subtle::ConstantTimeEq;

/// The name of the only algorithm.
pub const ALGORITHM: &str = "pbkdf2-sha256";
/// Iterations of a new hash (OWASP's figure for PBKDF2-HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// Fewer iterations than this are refused when a hash is read.
pub const MIN_ITERATIONS: u32 = 1_000;

/// A stored password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PasswordHash({ALGORITHM}, {} iterations)",
            self.iterations
        )
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (salt, hash) = (hex::encode(&self.salt), hex::encode(self.hash));
        write!(f, "{ALGORITHM}${}${salt}${hash}", self.iterations)
    }
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

impl PasswordHash {
    /// Hashes `password` with `salt` (at least 16 bytes) and `iterations`.
    pub fn new(password: &str, salt: &[u8], iterations: u32) -> PasswordHash {
        PasswordHash {
            iterations,
            salt: salt.to_vec(),
            hash: derive(password, salt, iterations),
        }
    }

    /// Hashes `password` with a random salt and [`DEFAULT_ITERATIONS`].
    pub fn generate(password: &str) -> PasswordHash {
        let salt = uuid::Uuid::new_v4();
        PasswordHash::new(password, salt.as_bytes(), DEFAULT_ITERATIONS)
    }

    /// Reads the stored form.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str) -> Result<PasswordHash, String> {
        let parts: Vec<&str> = text.trim().split('$').collect();
        let [alg, iterations, salt, hash] = parts[..] else {
            return Err(format!(
                "a hash is {ALGORITHM}$<iterations>$<salt hex>$<hash hex>"
            ));
        };
        if alg != ALGORITHM {
            return Err(format!("unknown algorithm {alg:?}, expected {ALGORITHM}"));
        }
        let iterations: u32 = iterations.parse().map_err(|_| "bad iteration count")?;
        if iterations < MIN_ITERATIONS {
            return Err(format!("at least {MIN_ITERATIONS} iterations"));
        }
        let salt = hex::decode(salt).map_err(|_| "the salt is not hex")?;
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or("the hash is not 64 hex digits")?;
        if salt.len() < 16 {
            return Err("the salt is shorter than 16 bytes".into());
        }
        Ok(PasswordHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed (constant-time comparison).
    pub fn verify(&self, password: &str) -> bool {
        let got = derive(password, &self.salt, self.iterations);
        got.ct_eq(&self.hash).into()
    }

    /// Spends the time of a verification against this hash's cost without a result: what
    /// an unknown operator name costs, so the answer's timing does not tell names apart.
    pub fn burn(&self, password: &str) {
        let _ = derive(password, b"console-unknown-operator", self.iterations);
    }
}

/// How many password checks may run at once in one process or Spin instance (each costs a
/// full PBKDF2); a try over the bound is refused before hashing, like a throttled one.
pub const MAX_CONCURRENT_CHECKS: usize = 2;

static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The right to run one password check; the slot frees when it is dropped.
#[derive(Debug)]
pub struct CheckPermit(());

impl CheckPermit {
    /// A slot, unless [`MAX_CONCURRENT_CHECKS`] checks are running already.
    pub fn try_acquire() -> Option<CheckPermit> {
        RUNNING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_CONCURRENT_CHECKS).then_some(n + 1)
            })
            .ok()
            .map(|_| CheckPermit(()))
    }
}

impl Drop for CheckPermit {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_verify() {
        let h = PasswordHash::new("correct horse", &[7u8; 16], MIN_ITERATIONS);
        let again = PasswordHash::parse(&h.to_string()).expect("parses");
        assert_eq!(again, h);
        assert!(again.verify("correct horse"));
        assert!(!again.verify("correct horsf"));
        assert!(!format!("{h:?}").contains(&hex::encode(h.hash)));
    }

    #[test]
    fn at_most_the_bound_of_checks_run_at_once() {
        let held: Vec<CheckPermit> = std::iter::from_fn(CheckPermit::try_acquire)
            .take(MAX_CONCURRENT_CHECKS + 1)
            .collect();
        assert_eq!(held.len(), MAX_CONCURRENT_CHECKS);
        drop(held);
        assert!(CheckPermit::try_acquire().is_some(), "slots free on drop");
    }

    #[test]
    fn bad_hashes_are_refused() {
        let ok = PasswordHash::new("x", &[1u8; 16], MIN_ITERATIONS).to_string();
        assert!(PasswordHash::parse(&ok.replace("pbkdf2-sha256", "md5")).is_err());
        assert!(PasswordHash::parse(&ok.replace("$1000$", "$10$")).is_err());
        assert!(PasswordHash::parse("pbkdf2-sha256$1000$zz$00").is_err());
        assert!(PasswordHash::parse("plain").is_err());
    }
}
