//! The deployer CLI `set-webhook` against the fake Bot API: webhook URL, secret and
//! allowed updates set; commands set in ru (default and explicit) and en; token not printed.

use std::process::Command;

use testkit::fakes::telegram::FakeTelegram;

const BIN: &str = env!("CARGO_BIN_EXE_set-webhook");

#[tokio::test]
async fn sets_the_webhook_and_the_commands() {
    let tg = FakeTelegram::start().await;
    let out = Command::new(BIN)
        .args([
            "--url",
            "https://bot.example.com/telegram/webhook",
            "--secret",
            "s3cret_-value",
        ])
        .args(["--api-url", &tg.base_url()])
        .env("TELEGRAM_BOT_TOKEN", tg.token())
        .output()
        .expect("run set-webhook");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(tg.token()), "token printed: {stdout}");
    let hook = tg.webhook();
    assert_eq!(hook["url"], "https://bot.example.com/telegram/webhook");
    assert_eq!(hook["secret_token"], "s3cret_-value");
    let allowed = hook["allowed_updates"].to_string();
    assert!(
        allowed.contains("callback_query") && allowed.contains("my_chat_member"),
        "{allowed}"
    );
    let langs: Vec<String> = tg
        .calls_of("setMyCommands")
        .iter()
        .map(|c| {
            c.param("language_code")
                .as_str()
                .unwrap_or("default")
                .to_owned()
        })
        .collect();
    assert_eq!(langs, vec!["default", "ru", "en"]);
}

#[test]
fn refuses_a_secret_telegram_would_refuse() {
    let out = Command::new(BIN)
        .args([
            "--url",
            "https://x.example/telegram/webhook",
            "--secret",
            "has spaces!",
        ])
        .env("TELEGRAM_BOT_TOKEN", "1:x")
        .output()
        .expect("run set-webhook");
    assert_eq!(out.status.code(), Some(2));
}
