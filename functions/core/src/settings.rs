//! Configuration: every variable the edge reads, with its default.
//!
//! Names are the deployment's configuration names (`INITIAL_BALANCE`, `ADMIN_IDS`, …) in
//! Spin's lowercase form. Each component reads exactly [`VARIABLES`] through [`crate::ports::Config`]; the manifest test
//! checks that `spin.toml` declares every one of them.

use crate::ports::Config;

/// A variable the edge reads: name, default (`None` = required or empty), secret or not.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    /// Spin variable name (lowercase snake_case).
    pub name: &'static str,
    /// Default value, when one is safe.
    pub default: Option<&'static str>,
    /// Whether it is a secret (never logged beyond 4 characters).
    pub secret: bool,
    /// What it does, for the README table and `spin.toml`.
    pub help: &'static str,
}

/// Declares a [`Variable`] (for the `VARIABLES` lists).
pub const fn var(
    name: &'static str,
    default: Option<&'static str>,
    secret: bool,
    help: &'static str,
) -> Variable {
    Variable {
        name,
        default,
        secret,
        help,
    }
}

/// Every variable the edge components read.
pub const VARIABLES: &[Variable] = &[
    var("api_token", None, true, "Bearer token for /api/*"),
    var(
        "gpu_event_secret",
        None,
        true,
        "HMAC secret shared with the gpu-hosts for /internal/*",
    ),
    var(
        "redis_url",
        Some("redis://127.0.0.1:6379"),
        false,
        "Redis holding the jobs stream",
    ),
    var(
        "jobs_stream",
        Some("jobs"),
        false,
        "Name of the Redis stream of jobs",
    ),
    var(
        "initial_balance",
        Some("100"),
        false,
        "Signup bonus in credits, once per user",
    ),
    var(
        "unlimited_processing",
        Some("false"),
        false,
        "true: every edit is free (still recorded)",
    ),
    var(
        "admin_ids",
        Some(""),
        false,
        "Comma-separated Telegram ids of admins (their edits are free)",
    ),
    var(
        "custom_prompt_cost",
        Some("10"),
        false,
        "Price in credits of an edit with a custom prompt",
    ),
    var(
        "topup_bonus_percent",
        Some("10"),
        false,
        "Bonus percent added to every top-up",
    ),
    var(
        "default_workflow",
        Some("qwen_edit_2511"),
        false,
        "Workflow the gpu-host runs for new jobs",
    ),
    var(
        "max_body_bytes",
        Some("65536"),
        false,
        "Largest request body accepted (bytes)",
    ),
    var(
        "max_queued_per_user",
        Some("5"),
        false,
        "Most unfinished (queued or running) edits one user may have; 0 = no cap",
    ),
    var(
        "job_stall_secs",
        Some("3600"),
        false,
        "A running job with no event for this long is failed and refunded (keep it above the hosts' JOB_DEADLINE_SECS × MAX_DELIVERIES)",
    ),
    var(
        "job_queue_max_secs",
        Some("86400"),
        false,
        "A job still waiting for a GPU after this long is failed and refunded",
    ),
    var(
        "delivery_confirm_secs",
        Some("900"),
        false,
        "A delivery granted this long ago and never confirmed (its host died mid-send) is closed as succeeded",
    ),
    var(
        "hosts_keep_days",
        Some("7"),
        false,
        "GPU hosts silent for this many days are forgotten",
    ),
    var(
        "reconciliation_keep_days",
        Some("400"),
        false,
        "Reconciliation reports older than this many days are deleted",
    ),
];

/// Parsed configuration of the edge. Its `Debug` shows at most 4 characters of each secret
/// (the API token, the GPU hosts' HMAC secret, a password in the Redis URL).
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// Bearer token for `/api/*`.
    pub api_token: String,
    /// HMAC secret for `/internal/*`.
    pub gpu_event_secret: String,
    /// Redis URL of the jobs stream.
    pub redis_url: String,
    /// Jobs stream name.
    pub jobs_stream: String,
    /// Signup bonus in credits.
    pub initial_balance: i64,
    /// Every edit free.
    pub unlimited_processing: bool,
    /// Admin Telegram ids.
    pub admin_ids: Vec<i64>,
    /// Price of a custom-prompt edit.
    pub custom_prompt_cost: i64,
    /// Top-up bonus percent.
    pub topup_bonus_percent: i64,
    /// Workflow for new jobs.
    pub default_workflow: String,
    /// Request body limit in bytes.
    pub max_body_bytes: usize,
    /// Most unfinished jobs per user (0 = no cap).
    pub max_queued_per_user: i64,
    /// A running job silent this long (ms) is failed by the sweep.
    pub job_stall_ms: i64,
    /// A job queued this long (ms) is failed by the sweep.
    pub job_queue_max_ms: i64,
    /// A delivery granted this long ago (ms) and never confirmed is closed as succeeded.
    pub delivery_confirm_ms: i64,
    /// Hosts silent this long (ms) are forgotten.
    pub hosts_keep_ms: i64,
    /// Reconciliation reports older than this (ms) are deleted.
    pub reconciliation_keep_ms: i64,
}

const SEC_MS: i64 = 1000;
const DAY_MS: i64 = 86_400_000;

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use qwen_contract::signing::redact;
        f.debug_struct("Settings")
            .field("api_token", &redact(&self.api_token))
            .field("gpu_event_secret", &redact(&self.gpu_event_secret))
            .field("redis_url", &redact_url(&self.redis_url))
            .field("jobs_stream", &self.jobs_stream)
            .field("initial_balance", &self.initial_balance)
            .field("unlimited_processing", &self.unlimited_processing)
            .field("admin_ids", &self.admin_ids)
            .field("custom_prompt_cost", &self.custom_prompt_cost)
            .field("topup_bonus_percent", &self.topup_bonus_percent)
            .field("default_workflow", &self.default_workflow)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_queued_per_user", &self.max_queued_per_user)
            .field("job_stall_ms", &self.job_stall_ms)
            .field("job_queue_max_ms", &self.job_queue_max_ms)
            .field("delivery_confirm_ms", &self.delivery_confirm_ms)
            .field("hosts_keep_ms", &self.hosts_keep_ms)
            .field("reconciliation_keep_ms", &self.reconciliation_keep_ms)
            .finish()
    }
}

/// `url` with the credentials before its `@` (a Redis password) cut to 4 characters.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => format!(
            "{scheme}://{}@{host}",
            qwen_contract::signing::redact(credentials)
        ),
        None => url.to_owned(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_token: String::new(),
            gpu_event_secret: String::new(),
            redis_url: "redis://127.0.0.1:6379".into(),
            jobs_stream: "jobs".into(),
            initial_balance: 100,
            unlimited_processing: false,
            admin_ids: Vec::new(),
            custom_prompt_cost: 10,
            topup_bonus_percent: 10,
            default_workflow: "qwen_edit_2511".into(),
            max_body_bytes: 65_536,
            max_queued_per_user: 5,
            job_stall_ms: 3600 * SEC_MS,
            job_queue_max_ms: 86_400 * SEC_MS,
            delivery_confirm_ms: 900 * SEC_MS,
            hosts_keep_ms: 7 * DAY_MS,
            reconciliation_keep_ms: 400 * DAY_MS,
        }
    }
}

/// A variable holds a value that cannot be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("configuration variable `{name}` is invalid: {reason}")]
pub struct SettingsError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Reads each of `vars` that `config` has and hands its trimmed value to `apply` (a
/// settings struct's parser); unset variables keep their defaults.
///
/// # Errors
/// The first [`SettingsError`] `apply` returns.
pub async fn load_variables(
    config: &dyn Config,
    vars: &[Variable],
    mut apply: impl FnMut(&'static str, &str) -> Result<(), SettingsError>,
) -> Result<(), SettingsError> {
    for v in vars {
        if let Some(value) = config.get(v.name).await {
            apply(v.name, value.trim())?;
        }
    }
    Ok(())
}

impl Settings {
    /// Reads every variable in [`VARIABLES`] from `config`, falling back to defaults.
    ///
    /// # Errors
    /// [`SettingsError`] for a number or boolean that does not parse.
    pub async fn load(config: &dyn Config) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        load_variables(config, VARIABLES, |name, value| s.apply(name, value)).await?;
        Ok(s)
    }

    /// Sets one variable from its text form.
    ///
    /// # Errors
    /// [`SettingsError`] when the value does not parse; unknown names are ignored.
    pub fn apply(&mut self, name: &'static str, value: &str) -> Result<(), SettingsError> {
        match name {
            "api_token" => self.api_token = value.into(),
            "gpu_event_secret" => self.gpu_event_secret = value.into(),
            "redis_url" => self.redis_url = value.into(),
            "jobs_stream" => self.jobs_stream = value.into(),
            "initial_balance" => self.initial_balance = non_negative(name, value)?,
            "unlimited_processing" => self.unlimited_processing = boolean(name, value)?,
            "admin_ids" => self.admin_ids = id_list(name, value)?,
            "custom_prompt_cost" => self.custom_prompt_cost = non_negative(name, value)?,
            "topup_bonus_percent" => self.topup_bonus_percent = non_negative(name, value)?,
            "default_workflow" => self.default_workflow = value.into(),
            "max_body_bytes" => self.max_body_bytes = non_negative(name, value)? as usize,
            "max_queued_per_user" => self.max_queued_per_user = non_negative(name, value)?,
            "job_stall_secs" => self.job_stall_ms = scaled(name, value, SEC_MS)?,
            "job_queue_max_secs" => self.job_queue_max_ms = scaled(name, value, SEC_MS)?,
            "delivery_confirm_secs" => self.delivery_confirm_ms = scaled(name, value, SEC_MS)?,
            "hosts_keep_days" => self.hosts_keep_ms = scaled(name, value, DAY_MS)?,
            "reconciliation_keep_days" => {
                self.reconciliation_keep_ms = scaled(name, value, DAY_MS)?
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether `telegram_id` is an admin.
    pub fn is_admin(&self, telegram_id: i64) -> bool {
        self.admin_ids.contains(&telegram_id)
    }
}

fn non_negative(name: &'static str, value: &str) -> Result<i64, SettingsError> {
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(SettingsError {
            name,
            reason: format!("expected a whole number ≥ 0, got {value:?}"),
        }),
    }
}

/// A positive whole number of `unit`s (seconds, days) in milliseconds.
fn scaled(name: &'static str, value: &str, unit: i64) -> Result<i64, SettingsError> {
    match non_negative(name, value)?.checked_mul(unit) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(SettingsError {
            name,
            reason: format!("expected a whole number ≥ 1 and not absurdly large, got {value:?}"),
        }),
    }
}

fn boolean(name: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(SettingsError {
            name,
            reason: format!("expected true or false, got {value:?}"),
        }),
    }
}

fn id_list(name: &'static str, value: &str) -> Result<Vec<i64>, SettingsError> {
    value
        .split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim().parse::<i64>().map_err(|_| SettingsError {
                name,
                reason: format!("{s:?} is not a Telegram id"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_at_most_four_characters_of_each_secret() {
        let mut s = Settings::default();
        s.apply("api_token", "apitoken-SECRET-0001").expect("token");
        s.apply("gpu_event_secret", "gpusecret-SECRET-0002")
            .expect("secret");
        s.apply("redis_url", "redis://:redispass-SECRET@127.0.0.1:6379")
            .expect("url");
        let shown = format!("{s:?} {s:#?}");
        for secret in ["apitoken-SECRET-0001", "gpusecret-SECRET-0002", "redispass"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("apit…") && shown.contains("@127.0.0.1:6379"));
    }

    #[test]
    fn parses_seed_style_values() {
        let mut s = Settings::default();
        s.apply("admin_ids", "12345, 67890").expect("ids");
        s.apply("unlimited_processing", "False").expect("bool");
        s.apply("initial_balance", "50").expect("n");
        assert_eq!(s.admin_ids, vec![12345, 67890]);
        assert!(!s.unlimited_processing);
        assert_eq!(s.initial_balance, 50);
        assert!(s.is_admin(67890));
    }

    #[test]
    fn rejects_garbage() {
        let mut s = Settings::default();
        assert!(s.apply("initial_balance", "-1").is_err());
        assert!(s.apply("unlimited_processing", "maybe").is_err());
        assert!(s.apply("admin_ids", "12,abc").is_err());
        assert!(s.apply("job_stall_secs", "0").is_err());
        assert!(s.apply("hosts_keep_days", "9223372036854775807").is_err());
        s.apply("job_stall_secs", "90").expect("secs");
        assert_eq!(s.job_stall_ms, 90_000);
    }
}
