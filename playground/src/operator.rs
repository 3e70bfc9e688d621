//! The operator console of the playground's edge (`/console`): one operator with a password
//! made for this run, which the chat page shows and the log prints, and a random session key.
//!
//! The entry is the one `console-operator` prints (`name:pbkdf2-sha256$<iterations>$<salt
//! hex>$<hash hex>`, PBKDF2-HMAC-SHA256), made here with the same crates so that the
//! playground depends on the console only in its tests, which check the console accepts it.

use testkit::edge::random_alnum;

/// The operator's sign-in name.
pub const OPERATOR: &str = "operator";

/// PBKDF2 iterations of the operator's hash. A production entry has 600,000
/// (`console-operator`); this throwaway password of one run on 127.0.0.1 takes ten times
/// the console's minimum (1,000), so neither the start nor a sign-in waits on it.
pub const ITERATIONS: u32 = 10_000;

/// How to sign in to the console of this run, and the variables that turn it on.
#[derive(Clone)]
pub struct ConsoleAccess {
    /// The sign-in name.
    pub name: String,
    /// The password (shown on the chat page: the playground is on 127.0.0.1 only).
    pub password: String,
    entry: String,
    session_key: String,
}

impl std::fmt::Debug for ConsoleAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleAccess")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ConsoleAccess {
    /// A new random password and session key for [`OPERATOR`] (hashing takes a moment:
    /// call it off the async threads).
    pub fn random() -> ConsoleAccess {
        let password = random_alnum(16);
        let salt = uuid::Uuid::new_v4();
        ConsoleAccess {
            name: OPERATOR.to_owned(),
            entry: entry(OPERATOR, &password, salt.as_bytes(), ITERATIONS),
            password,
            session_key: random_alnum(48),
        }
    }

    /// The Spin variables that turn the console on: `console_operators` (one `name:hash`
    /// entry) and `console_session_key`.
    pub fn variables(&self) -> [(&'static str, String); 2] {
        [
            ("console_operators", self.entry.clone()),
            ("console_session_key", self.session_key.clone()),
        ]
    }
}

/// A `console_operators` entry: `name:pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
pub fn entry(name: &str, password: &str, salt: &[u8], iterations: u32) -> String {
    let mut hash = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut hash);
    format!(
        "{name}:pbkdf2-sha256${iterations}${}${}",
        hex::encode(salt),
        hex::encode(hash)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_one_the_console_accepts_and_verifies() {
        let access = ConsoleAccess::random();
        let [(_, entry), (_, key)] = access.variables();
        let ops = console::settings::parse_operators(&entry).expect("a valid entry");
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].name, OPERATOR);
        assert!(ops[0].hash.verify(&access.password));
        assert!(!ops[0].hash.verify("not the password"));
        assert!(key.len() >= console::settings::MIN_KEY_CHARS);
        assert!(!format!("{access:?}").contains(&access.password));
    }

    #[test]
    fn the_entry_is_what_console_operator_makes() {
        let salt = [7u8; 16];
        let ours = entry("anna", "correct horse", &salt, 1_000);
        let theirs = console::password::PasswordHash::new("correct horse", &salt, 1_000);
        assert_eq!(ours, format!("anna:{theirs}"));
    }
}
