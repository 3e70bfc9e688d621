//! Deployer setup: points Telegram at the webhook and sets the command menu in ru and en.
//!
//! ```text
//! TELEGRAM_BOT_TOKEN=123:abc cargo run -p bot --bin set-webhook -- \
//!     --url https://bot.example.com/telegram/webhook --secret "$TELEGRAM_WEBHOOK_SECRET"
//! ```

use bot::commands::{ALLOWED_UPDATES, set_my_commands};
use bot::i18n::Lang;
use botapi::{BotApi, ReqwestHttp, SetWebhook, token_hint};
use clap::Parser;

/// Calls `setWebhook` (URL, secret, allowed updates) and `setMyCommands` (ru, en, default).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Public HTTPS URL of the webhook, ending in /telegram/webhook.
    #[arg(long)]
    url: String,
    /// Webhook secret: the same value as the `telegram_webhook_secret` Spin variable
    /// (1–256 of A-Z a-z 0-9 _ -).
    #[arg(long, env = "TELEGRAM_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// Bot token from @BotFather.
    #[arg(long, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
    token: String,
    /// Bot API base URL.
    #[arg(long, env = "TELEGRAM_API_URL", default_value = botapi::DEFAULT_BASE_URL)]
    api_url: String,
    /// Drop updates waiting for delivery.
    #[arg(long)]
    drop_pending_updates: bool,
}

fn valid_secret(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if !valid_secret(&args.secret) {
        eprintln!("--secret must be 1-256 characters of A-Z a-z 0-9 _ -");
        return std::process::ExitCode::from(2);
    }
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), botapi::BotApiError> {
    let http = ReqwestHttp::new();
    let api = BotApi::new(args.api_url.clone(), args.token.clone(), &http);
    let hook = SetWebhook {
        url: args.url.clone(),
        secret_token: Some(args.secret.clone()),
        allowed_updates: Some(ALLOWED_UPDATES.iter().map(|s| (*s).to_owned()).collect()),
        drop_pending_updates: args.drop_pending_updates.then_some(true),
        max_connections: None,
    };
    api.set_webhook(&hook).await?;
    println!(
        "webhook set to {} for bot {}",
        args.url,
        token_hint(&args.token)
    );
    for (lang, default_list) in [(Lang::Ru, true), (Lang::Ru, false), (Lang::En, false)] {
        api.set_my_commands(&set_my_commands(lang, default_list))
            .await?;
    }
    println!("commands set (default: ru; ru; en)");
    Ok(())
}
