//! Payment configuration: every Spin variable the payment code reads, with its default, and
//! the top-up packages.
//!
//! Money units: RUB amounts in configuration are whole roubles (stored as kopecks), Stars
//! amounts are whole stars; credits are the app's balance unit.

use crate::ports::Config;
use crate::settings::{SettingsError, Variable, var};

/// YooKassa's published notification source ranges (yookassa.ru/developers, "IP addresses").
pub const YOOKASSA_RANGES: &str = "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,77.75.156.11/32,77.75.156.35/32,77.75.154.128/25,2a02:5180::/32";

/// Every variable the payment code reads (besides the core's `topup_bonus_percent`).
pub const VARIABLES: &[Variable] = &[
    var("yookassa_shop_id", None, false, "YooKassa shop id (shopId)"),
    var("yookassa_secret_key", None, true, "YooKassa secret key"),
    var(
        "yookassa_api_url",
        Some("https://api.yookassa.ru"),
        false,
        "YooKassa API base URL",
    ),
    var(
        "yookassa_return_link",
        Some("https://t.me"),
        false,
        "Where YooKassa sends the payer back",
    ),
    var(
        "yookassa_timeout_ms",
        Some("10000"),
        false,
        "Timeout of one YooKassa call (ms)",
    ),
    var(
        "yookassa_receipt",
        Some("false"),
        false,
        "true: send 54-FZ receipt data",
    ),
    var(
        "yookassa_vat_code",
        Some("1"),
        false,
        "VAT code of the receipt item (1 = no VAT)",
    ),
    var(
        "yookassa_allowed_ips",
        Some(YOOKASSA_RANGES),
        false,
        "Notification source ranges; `off` disables the check",
    ),
    var(
        "yookassa_client_ip_header",
        Some("spin-client-addr"),
        false,
        "Header holding the caller's address (x-forwarded-for behind a proxy)",
    ),
    var(
        "topup_packages",
        Some("100=100,300=300,500=500,1000=1000"),
        false,
        "RUB packages: roubles=credits, comma-separated",
    ),
    var(
        "stars_packages",
        Some("50=50,100=100,250=250,500=500"),
        false,
        "Stars packages: stars=credits, comma-separated",
    ),
    var(
        "credits_per_rub",
        Some("1"),
        false,
        "Credits per rouble of a custom amount",
    ),
    var(
        "credits_per_star",
        Some("1"),
        false,
        "Credits per star of a custom amount",
    ),
    var(
        "topup_min_rub",
        Some("50"),
        false,
        "Smallest RUB top-up (roubles)",
    ),
    var(
        "topup_max_rub",
        Some("50000"),
        false,
        "Largest RUB top-up (roubles)",
    ),
    var("stars_min", Some("1"), false, "Smallest Stars top-up"),
    var("stars_max", Some("10000"), false, "Largest Stars top-up"),
    var(
        "payment_expiry_minutes",
        Some("60"),
        false,
        "Minutes a payment may stay pending before the sweep settles it",
    ),
    var(
        "telegram_bot_token",
        None,
        true,
        "Bot token from @BotFather",
    ),
    var(
        "telegram_api_url",
        Some("https://api.telegram.org"),
        false,
        "Base URL of the Telegram Bot API",
    ),
    var(
        "telegram_timeout_ms",
        Some("10000"),
        false,
        "Timeout of one Bot API call (ms)",
    ),
];

/// A top-up package: pay `amount` whole units, get `credits` (plus the configured bonus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    /// Whole roubles or stars.
    pub amount: i64,
    /// Credits before the bonus.
    pub credits: i64,
}

/// Parsed payment configuration.
#[derive(Clone, PartialEq)]
pub struct PaymentSettings {
    /// YooKassa shop id.
    pub shop_id: String,
    /// YooKassa secret key (secret).
    pub secret_key: String,
    /// YooKassa API base URL.
    pub api_url: String,
    /// Return URL after the YooKassa page.
    pub return_url: String,
    /// YooKassa call timeout, ms.
    pub timeout_ms: u64,
    /// Send 54-FZ receipts.
    pub receipt: bool,
    /// Receipt VAT code.
    pub vat_code: i64,
    /// Allowed notification sources; empty = no check.
    pub allowed_ips: Vec<super::allowlist::Cidr>,
    /// Header with the caller's address.
    pub client_ip_header: String,
    /// RUB packages.
    pub rub_packages: Vec<Package>,
    /// Stars packages.
    pub stars_packages: Vec<Package>,
    /// Credits per rouble (custom amount).
    pub credits_per_rub: i64,
    /// Credits per star (custom amount).
    pub credits_per_star: i64,
    /// RUB limits, whole roubles.
    pub min_rub: i64,
    /// Largest RUB top-up.
    pub max_rub: i64,
    /// Stars limits.
    pub min_stars: i64,
    /// Largest Stars top-up.
    pub max_stars: i64,
    /// Minutes a payment may stay `pending` before the sweep settles it (Stars: canceled;
    /// YooKassa: re-fetched and settled as YooKassa says).
    pub expiry_minutes: i64,
    /// Bot token (secret) for the "topped up" message and Stars refunds.
    pub bot_token: String,
    /// Bot API base URL.
    pub telegram_api_url: String,
    /// Bot API timeout, ms.
    pub telegram_timeout_ms: u64,
}

impl std::fmt::Debug for PaymentSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentSettings")
            .field("shop_id", &self.shop_id)
            .field("secret_key", &hint(&self.secret_key))
            .field("api_url", &self.api_url)
            .field("bot_token", &hint(&self.bot_token))
            .finish_non_exhaustive()
    }
}

/// At most the first 4 characters of a secret, for logs.
pub fn hint(secret: &str) -> String {
    format!("{}…", secret.chars().take(4).collect::<String>())
}

impl Default for PaymentSettings {
    fn default() -> Self {
        let mut s = PaymentSettings {
            shop_id: String::new(),
            secret_key: String::new(),
            api_url: String::new(),
            return_url: String::new(),
            timeout_ms: 10_000,
            receipt: false,
            vat_code: 1,
            allowed_ips: Vec::new(),
            client_ip_header: String::new(),
            rub_packages: Vec::new(),
            stars_packages: Vec::new(),
            credits_per_rub: 1,
            credits_per_star: 1,
            min_rub: 50,
            max_rub: 50_000,
            min_stars: 1,
            max_stars: 10_000,
            expiry_minutes: 60,
            bot_token: String::new(),
            telegram_api_url: String::new(),
            telegram_timeout_ms: 10_000,
        };
        for v in VARIABLES {
            if let Some(d) = v.default {
                let _ = s.apply(v.name, d);
            }
        }
        s
    }
}

fn bad(name: &'static str, reason: String) -> SettingsError {
    SettingsError { name, reason }
}

fn number(name: &'static str, value: &str) -> Result<i64, SettingsError> {
    match value.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(bad(
            name,
            format!("expected a whole number ≥ 0, got {value:?}"),
        )),
    }
}

/// Parses `amount=credits,amount=credits`.
///
/// # Errors
/// [`SettingsError`] for an entry that is not two positive numbers.
pub fn parse_packages(name: &'static str, value: &str) -> Result<Vec<Package>, SettingsError> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (a, c) = item
            .split_once('=')
            .ok_or_else(|| bad(name, format!("{item:?} is not amount=credits")))?;
        let (amount, credits) = (number(name, a)?, number(name, c)?);
        if amount == 0 || credits == 0 {
            return Err(bad(name, format!("{item:?}: amounts must be positive")));
        }
        out.push(Package { amount, credits });
    }
    Ok(out)
}

impl PaymentSettings {
    /// Reads every variable in [`VARIABLES`] from `config`, falling back to defaults.
    ///
    /// # Errors
    /// [`SettingsError`] for a value that does not parse.
    pub async fn load(config: &dyn Config) -> Result<PaymentSettings, SettingsError> {
        let mut s = PaymentSettings::default();
        crate::settings::load_variables(config, VARIABLES, |name, value| s.apply(name, value))
            .await?;
        Ok(s)
    }

    /// Sets one variable from its text form; unknown names are ignored.
    ///
    /// # Errors
    /// [`SettingsError`] when the value does not parse.
    pub fn apply(&mut self, name: &'static str, value: &str) -> Result<(), SettingsError> {
        match name {
            "yookassa_shop_id" => self.shop_id = value.into(),
            "yookassa_secret_key" => self.secret_key = value.into(),
            "yookassa_api_url" => self.api_url = value.trim_end_matches('/').into(),
            "yookassa_return_link" => self.return_url = value.into(),
            "yookassa_timeout_ms" => self.timeout_ms = number(name, value)? as u64,
            "yookassa_receipt" => self.receipt = matches!(value, "true" | "1" | "yes" | "on"),
            "yookassa_vat_code" => self.vat_code = number(name, value)?,
            "yookassa_allowed_ips" => self.allowed_ips = super::allowlist::parse(name, value)?,
            "yookassa_client_ip_header" => self.client_ip_header = value.to_ascii_lowercase(),
            _ => self.apply_more(name, value)?,
        }
        Ok(())
    }

    fn apply_more(&mut self, name: &'static str, value: &str) -> Result<(), SettingsError> {
        match name {
            "topup_packages" => self.rub_packages = parse_packages(name, value)?,
            "stars_packages" => self.stars_packages = parse_packages(name, value)?,
            "credits_per_rub" => self.credits_per_rub = number(name, value)?,
            "credits_per_star" => self.credits_per_star = number(name, value)?,
            "topup_min_rub" => self.min_rub = number(name, value)?,
            "topup_max_rub" => self.max_rub = number(name, value)?,
            "stars_min" => self.min_stars = number(name, value)?,
            "stars_max" => self.max_stars = number(name, value)?,
            "payment_expiry_minutes" => self.expiry_minutes = number(name, value)?.max(1),
            "telegram_bot_token" => self.bot_token = value.into(),
            "telegram_api_url" => self.telegram_api_url = value.trim_end_matches('/').into(),
            "telegram_timeout_ms" => self.telegram_timeout_ms = number(name, value)? as u64,
            _ => {}
        }
        Ok(())
    }
}

/// Core variables the `payments` component does not read (no `/api`, no queue).
pub const UNUSED_CORE_VARIABLES: &[&str] = &[
    "api_token",
    "gpu_event_secret",
    "redis_url",
    "jobs_stream",
    "max_queued_per_user",
    "job_stall_secs",
    "job_queue_max_secs",
    "delivery_confirm_secs",
    "hosts_keep_days",
    "reconciliation_keep_days",
];

/// Every variable the `payments` component reads: the core's (less
/// [`UNUSED_CORE_VARIABLES`]) and [`VARIABLES`].
pub fn component_variables() -> Vec<Variable> {
    crate::settings::VARIABLES
        .iter()
        .filter(|v| !UNUSED_CORE_VARIABLES.contains(&v.name))
        .chain(VARIABLES)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_at_most_four_characters_of_each_secret() {
        let mut s = PaymentSettings::default();
        s.apply("yookassa_secret_key", "live_SECRETKEY-0001")
            .expect("key");
        s.apply("telegram_bot_token", "123456:BOTTOKEN-SECRET")
            .expect("token");
        let shown = format!("{s:?} {s:#?}");
        for secret in ["live_SECRETKEY-0001", "123456:BOTTOKEN-SECRET", "SECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn defaults_parse_and_packages_are_read() {
        let s = PaymentSettings::default();
        assert_eq!(s.rub_packages.len(), 4);
        assert_eq!(s.allowed_ips.len(), 7);
        assert_eq!(s.api_url, "https://api.yookassa.ru");
        assert!(parse_packages("x", "100=abc").is_err());
        assert!(parse_packages("x", "0=1").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let s = PaymentSettings {
            secret_key: "live_abcdefgh".into(),
            ..PaymentSettings::default()
        };
        assert!(!format!("{s:?}").contains("abcdefgh"));
    }
}
