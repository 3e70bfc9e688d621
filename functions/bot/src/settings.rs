//! The bot's own configuration: the Spin variables the `telegram` component reads besides
//! the core's [`qwen_core::settings::VARIABLES`]. The manifest test checks that `spin.toml`
//! declares every name in [`VARIABLES`].

use qwen_core::ports::Config;
use qwen_core::settings::{SettingsError, Variable};

/// Every variable the `telegram` component reads in addition to the core's.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "telegram_bot_token",
        default: None,
        secret: true,
        help: "Bot token from @BotFather",
    },
    Variable {
        name: "telegram_webhook_secret",
        default: None,
        secret: true,
        help: "Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (setWebhook secret_token)",
    },
    Variable {
        name: "telegram_api_url",
        default: Some(botapi::DEFAULT_BASE_URL),
        secret: false,
        help: "Base URL of the Telegram Bot API",
    },
    Variable {
        name: "telegram_timeout_ms",
        default: Some("10000"),
        secret: false,
        help: "Timeout of one Bot API call from the webhook (ms)",
    },
];

/// Core variables the `telegram` component does not read (it never serves `/api` and never
/// sweeps), so `spin.toml` does not grant them. It does read `gpu_event_secret`: it signs the
/// job messages it puts on the stream.
pub const UNUSED_CORE_VARIABLES: &[&str] = &[
    "api_token",
    "job_stall_secs",
    "job_queue_max_secs",
    "delivery_confirm_secs",
    "hosts_keep_days",
    "reconciliation_keep_days",
];

/// Every variable the `telegram` component reads: the core's (less
/// [`UNUSED_CORE_VARIABLES`]), the bot's own [`VARIABLES`] and the payments'
/// ([`qwen_core::payments::settings::VARIABLES`]; the Bot API ones are shared, listed once).
pub fn component_variables() -> Vec<Variable> {
    let mut out: Vec<Variable> = Vec::new();
    let all = qwen_core::settings::VARIABLES
        .iter()
        .filter(|v| !UNUSED_CORE_VARIABLES.contains(&v.name))
        .chain(VARIABLES)
        .chain(qwen_core::payments::settings::VARIABLES);
    for v in all {
        if !out.iter().any(|o| o.name == v.name) {
            out.push(*v);
        }
    }
    out
}

/// Parsed bot configuration.
#[derive(Clone, PartialEq)]
pub struct BotSettings {
    /// Bot token (secret; never logged beyond 4 characters).
    pub bot_token: String,
    /// Webhook secret (secret).
    pub webhook_secret: String,
    /// Bot API base URL.
    pub api_url: String,
    /// Timeout of one Bot API call, ms.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for BotSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSettings")
            .field("bot_token", &botapi::token_hint(&self.bot_token))
            .field("webhook_secret", &botapi::token_hint(&self.webhook_secret))
            .field("api_url", &self.api_url)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings {
            bot_token: String::new(),
            webhook_secret: String::new(),
            api_url: botapi::DEFAULT_BASE_URL.into(),
            timeout_ms: 10_000,
        }
    }
}

impl BotSettings {
    /// Reads every variable in [`VARIABLES`] from `config`, falling back to defaults.
    ///
    /// # Errors
    /// [`SettingsError`] for a timeout that is not a number.
    pub async fn load(config: &dyn Config) -> Result<BotSettings, SettingsError> {
        let mut s = BotSettings::default();
        for v in VARIABLES {
            if let Some(value) = config.get(v.name).await {
                s.apply(v.name, value.trim())?;
            }
        }
        Ok(s)
    }

    /// Sets one variable from its text form; unknown names are ignored.
    ///
    /// # Errors
    /// [`SettingsError`] when `telegram_timeout_ms` does not parse.
    pub fn apply(&mut self, name: &'static str, value: &str) -> Result<(), SettingsError> {
        match name {
            "telegram_bot_token" => self.bot_token = value.into(),
            "telegram_webhook_secret" => self.webhook_secret = value.into(),
            "telegram_api_url" if !value.is_empty() => self.api_url = value.into(),
            "telegram_timeout_ms" => {
                self.timeout_ms = value.parse().map_err(|_| SettingsError {
                    name,
                    reason: format!("expected milliseconds, got {value:?}"),
                })?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let mut s = BotSettings::default();
        s.apply("telegram_bot_token", "123456:ABCDEFSECRET")
            .expect("token");
        s.apply("telegram_webhook_secret", "websecret-xyz")
            .expect("secret");
        let shown = format!("{s:?}");
        assert!(!shown.contains("ABCDEFSECRET"), "{shown}");
        assert!(!shown.contains("websecret-xyz"), "{shown}");
    }

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut names: Vec<_> = VARIABLES.iter().map(|v| v.name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
        assert!(s_overlap_free(&names));
    }

    fn s_overlap_free(names: &[&str]) -> bool {
        names
            .iter()
            .all(|n| qwen_core::settings::VARIABLES.iter().all(|c| c.name != *n))
    }

    #[test]
    fn the_component_reads_no_api_secrets() {
        let names: Vec<_> = component_variables().iter().map(|v| v.name).collect();
        assert!(names.contains(&"telegram_bot_token") && names.contains(&"redis_url"));
        assert!(!names.contains(&"api_token"));
        assert!(
            names.contains(&"gpu_event_secret"),
            "it signs the job messages"
        );
        assert!(names.contains(&"yookassa_api_url") && names.contains(&"stars_packages"));
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn bad_timeout_is_refused() {
        assert!(
            BotSettings::default()
                .apply("telegram_timeout_ms", "soon")
                .is_err()
        );
    }
}
