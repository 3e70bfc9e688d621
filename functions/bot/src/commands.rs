//! The bot's command menu (`setMyCommands`) and the update kinds it subscribes to.

use botapi::{BotCommand, SetMyCommands};

use qwen_texts::{Lang, t};

/// Commands shown in Telegram's menu: `(command, catalog key of the description)`.
pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "cmd_start"),
    ("menu", "cmd_menu"),
    ("balance", "cmd_balance"),
    ("cancel", "cmd_cancel"),
    ("lang", "cmd_lang"),
    ("help", "cmd_help"),
];

/// `allowed_updates` for `setWebhook`.
pub const ALLOWED_UPDATES: &[&str] = &[
    "message",
    "callback_query",
    "my_chat_member",
    "pre_checkout_query",
];

/// The `setMyCommands` call for `lang`; Russian is also the default list (no language code).
pub fn set_my_commands(lang: Lang, default_list: bool) -> SetMyCommands {
    SetMyCommands {
        commands: COMMANDS
            .iter()
            .map(|(cmd, key)| BotCommand::new(*cmd, t(lang, key)))
            .collect(),
        scope: None,
        language_code: (!default_list).then(|| lang.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_valid_for_telegram() {
        for lang in [Lang::Ru, Lang::En] {
            let req = set_my_commands(lang, false);
            assert_eq!(req.language_code.as_deref(), Some(lang.as_str()));
            for c in &req.commands {
                assert!(
                    c.command.len() <= 32 && c.command.chars().all(|ch| ch.is_ascii_lowercase())
                );
                assert!(!c.description.is_empty() && c.description.chars().count() <= 256);
            }
        }
    }
}
