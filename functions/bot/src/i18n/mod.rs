//! Message catalogs in Russian and English, in Fluent (`fluent-bundle`, which builds for
//! `wasm32-wasip2`): `ru.ftl` and `en.ftl`, embedded in the binary and parsed once per
//! process (or Spin instance). `{ $name }` is an argument, passed with [`tf`].
//! Tests check that both files hold the same keys with the same arguments.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

/// Russian texts (Fluent).
pub const RU_FTL: &str = include_str!("ru.ftl");
/// English texts (Fluent).
pub const EN_FTL: &str = include_str!("en.ftl");

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Russian, the default.
    #[default]
    Ru,
    /// English.
    En,
}

impl Lang {
    /// `ru` → [`Lang::Ru`], `en` → [`Lang::En`], anything else → `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The code stored in the core (`ru`/`en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The Fluent source of this language.
    pub fn source(self) -> &'static str {
        match self {
            Lang::Ru => RU_FTL,
            Lang::En => EN_FTL,
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();

fn build(lang: Lang) -> Bundle {
    let resource =
        FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(res, errors)| {
            tracing::error!(
                lang = lang.code(),
                ?errors,
                "message catalog has syntax errors"
            );
            res
        });
    let locale = lang.code().parse().unwrap_or_default();
    let mut bundle = Bundle::new_concurrent(vec![locale]);
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            lang = lang.code(),
            ?errors,
            "message catalog has duplicate keys"
        );
    }
    bundle
}

fn bundle(lang: Lang) -> &'static Bundle {
    let all = BUNDLES.get_or_init(|| [build(Lang::Ru), build(Lang::En)]);
    match lang {
        Lang::Ru => &all[0],
        Lang::En => &all[1],
    }
}

/// The text of `key` in `lang`, without arguments.
pub fn t(lang: Lang, key: &str) -> String {
    tf(lang, key, &[])
}

/// The text of `key` in `lang` with its `{ $name }` arguments from `args`; the key itself
/// (logged) when the catalog lacks it.
pub fn tf(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let b = bundle(lang);
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        tracing::error!(key, lang = lang.code(), "missing message key");
        return key.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    let text = b
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned();
    if !errors.is_empty() {
        tracing::warn!(
            key,
            lang = lang.code(),
            ?errors,
            "message formatted with errors"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_bundle::FluentError;
    use fluent_bundle::resolver::ResolverError;
    use fluent_bundle::resolver::errors::ReferenceKind;
    use std::collections::BTreeSet;

    fn keys(lang: Lang) -> Vec<String> {
        lang.source()
            .lines()
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k))
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_owned)
            .collect()
    }

    /// The variables a message refers to (formatting without arguments reports each).
    fn arguments(lang: Lang, key: &str) -> BTreeSet<String> {
        let b = bundle(lang);
        let pattern = b.get_message(key).and_then(|m| m.value()).expect("message");
        let mut errors = Vec::new();
        b.format_pattern(pattern, None, &mut errors);
        errors
            .into_iter()
            .filter_map(|e| match e {
                FluentError::ResolverError(ResolverError::Reference(ReferenceKind::Variable {
                    id,
                })) => Some(id),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn catalogs_parse_without_errors() {
        for lang in [Lang::Ru, Lang::En] {
            let parsed = FluentResource::try_new(lang.source().to_owned());
            assert!(
                parsed.is_ok(),
                "{}: {:?}",
                lang.code(),
                parsed.err().map(|(_, e)| e)
            );
            let mut b = Bundle::new_concurrent(vec![]);
            assert!(
                b.add_resource(parsed.expect("parsed")).is_ok(),
                "duplicate keys in {}",
                lang.code()
            );
        }
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let ru: BTreeSet<String> = keys(Lang::Ru).into_iter().collect();
        let en: BTreeSet<String> = keys(Lang::En).into_iter().collect();
        assert!(ru.len() > 50, "keys were read");
        let only_ru: Vec<_> = ru.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ru).collect();
        assert!(only_ru.is_empty(), "keys only in ru: {only_ru:?}");
        assert!(only_en.is_empty(), "keys only in en: {only_en:?}");
    }

    #[test]
    fn arguments_match_between_languages() {
        for key in keys(Lang::Ru) {
            assert_eq!(
                arguments(Lang::Ru, &key),
                arguments(Lang::En, &key),
                "key {key}"
            );
            assert!(!t(Lang::Ru, &key).trim().is_empty(), "empty text: {key}");
        }
    }

    #[test]
    fn formats_arguments_and_keeps_line_breaks() {
        let text = tf(Lang::Ru, "balance", &[("balance", "42".into())]);
        assert_eq!(text, "💰 Ваш баланс: 42 кр.");
        assert_eq!(
            t(Lang::Ru, "prompt_invalid"),
            "Промпт должен быть от 1 до 500 символов"
        );
        let help = t(Lang::En, "help");
        assert!(
            help.starts_with("❓ How it works\n1.") && help.contains("\n\nCommands:\n/start"),
            "{help:?}"
        );
        let line = tf(
            Lang::En,
            "preset_line",
            &[
                ("name", "A".into()),
                ("cost", "5".into()),
                ("description", "d".into()),
            ],
        );
        assert_eq!(line, "• A — 5 credits\n   d");
        assert_eq!(t(Lang::En, "no_such_key"), "no_such_key");
    }
}
