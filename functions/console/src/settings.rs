//! The console's configuration: its operators and the session key, from three variables.

use qwen_core::ports::Config;
use qwen_core::settings::{Variable, var};

use crate::password::PasswordHash;

/// Every variable the console reads (the `api` component reads them too).
pub const VARIABLES: &[Variable] = &[
    var(
        "console_operators",
        Some(""),
        true,
        "Operators of /console: comma-separated name:hash (console-operator makes one)",
    ),
    var(
        "console_session_key",
        Some(""),
        true,
        "HMAC key of console session cookies, 32+ characters; empty turns the console off",
    ),
    var(
        "console_client_ip_header",
        Some("spin-client-addr"),
        false,
        "Header holding the client's address for sign-in throttling (x-forwarded-for behind a proxy: its last entry)",
    ),
    var(
        "console_session_minutes",
        Some("720"),
        false,
        "How long a console sign-in lasts",
    ),
];

/// The client-address header when `console_client_ip_header` is not set.
pub const DEFAULT_CLIENT_IP_HEADER: &str = "spin-client-addr";

/// The shortest session key accepted.
pub const MIN_KEY_CHARS: usize = 32;

/// An operator who may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The sign-in name, also written into the ledger notes of their adjustments.
    pub name: String,
    /// The password hash.
    pub hash: PasswordHash,
}

/// The console's configuration. Its `Debug` shows at most 4 characters of the session key
/// and no password hash.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// Who may sign in.
    pub operators: Vec<Operator>,
    /// The key sessions are signed with.
    pub session_key: String,
    /// How long a session lasts, ms.
    pub session_ms: i64,
    /// The header holding the client's address (lowercase): `spin-client-addr`, or
    /// `x-forwarded-for` behind a proxy (its last entry counts).
    pub client_ip_header: String,
}

impl std::fmt::Debug for ConsoleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSettings")
            .field("operators", &self.operators)
            .field(
                "session_key",
                &qwen_core::signing::redact(&self.session_key),
            )
            .field("session_ms", &self.session_ms)
            .field("client_ip_header", &self.client_ip_header)
            .finish()
    }
}

/// A bad console variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfigError(pub String);

impl std::fmt::Display for ConsoleConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "console configuration: {}", self.0)
    }
}

impl std::error::Error for ConsoleConfigError {}

/// Whether `name` may name an operator: 1–64 characters of `A-Z a-z 0-9 . _ -`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Reads `name:hash` entries separated by commas (spaces around them are ignored).
///
/// # Errors
/// The entry that is not a valid name and hash.
pub fn parse_operators(text: &str) -> Result<Vec<Operator>, ConsoleConfigError> {
    let entries = text.split(',').map(str::trim).filter(|e| !e.is_empty());
    entries
        .map(|entry| {
            let (name, hash) = entry.split_once(':').unwrap_or((entry, ""));
            if !valid_name(name) {
                return Err(ConsoleConfigError(format!("bad operator name {name:?}")));
            }
            let hash = PasswordHash::parse(hash)
                .map_err(|e| ConsoleConfigError(format!("operator {name}: {e}")))?;
            Ok(Operator {
                name: name.to_owned(),
                hash,
            })
        })
        .collect()
}

impl ConsoleSettings {
    /// Reads [`VARIABLES`] from `config`.
    ///
    /// # Errors
    /// A bad operator entry or session length.
    pub async fn load(config: &dyn Config) -> Result<ConsoleSettings, ConsoleConfigError> {
        let operators =
            parse_operators(&config.get("console_operators").await.unwrap_or_default())?;
        let minutes = match config.get("console_session_minutes").await {
            None => 720,
            Some(m) => m
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=10_080).contains(m))
                .ok_or_else(|| ConsoleConfigError("console_session_minutes is 1–10080".into()))?,
        };
        Ok(ConsoleSettings {
            operators,
            session_key: config.get("console_session_key").await.unwrap_or_default(),
            session_ms: minutes * 60_000,
            client_ip_header: config.get("console_client_ip_header").await.map_or_else(
                || DEFAULT_CLIENT_IP_HEADER.into(),
                |h| h.trim().to_ascii_lowercase(),
            ),
        })
    }

    /// Whether the console can run: a long enough key and at least one operator.
    pub fn enabled(&self) -> bool {
        self.session_key.chars().count() >= MIN_KEY_CHARS && !self.operators.is_empty()
    }

    /// The operator called `name`.
    pub fn operator(&self, name: &str) -> Option<&Operator> {
        self.operators.iter().find(|o| o.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let hash = PasswordHash::new("pw-SECRET", &[3u8; 16], 1_000);
        let s = ConsoleSettings {
            operators: vec![Operator {
                name: "anna".into(),
                hash: hash.clone(),
            }],
            session_key: "session-key-SECRET-0123456789abcdef".into(),
            session_ms: 60_000,
            client_ip_header: DEFAULT_CLIENT_IP_HEADER.into(),
        };
        let shown = format!("{s:?} {s:#?}");
        let hash_text = hash.to_string();
        let hash_hex = hash_text.rsplit('$').next().unwrap_or("");
        for secret in ["session-key-SECRET", "pw-SECRET", hash_hex] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("anna") && shown.contains("sess…"));
    }

    #[test]
    fn operators_parse() {
        let h = PasswordHash::new("pw", &[3u8; 16], 1_000).to_string();
        let ops = parse_operators(&format!(" anna:{h} , bob.k:{h},")).expect("parses");
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1].name, "bob.k");
        assert!(parse_operators(&format!("an na:{h}")).is_err());
        assert!(parse_operators("anna").is_err());
        assert_eq!(parse_operators("").map(|o| o.len()), Ok(0));
    }
}
