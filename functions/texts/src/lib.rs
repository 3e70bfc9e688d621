//! # qwen-texts
//!
//! Every word QwenEditBot says to a user, in Russian and English, in Fluent
//! (`fluent-bundle`, which builds for `wasm32-wasip2`), and the one loader the edge (bot
//! screens, payment messages) and the GPU host (progress, results, failures) share.
//!
//! The catalogs live in `locales/<lang>/<area>.ftl`, one file per area ([`AREAS`]: `bot`,
//! `payments`, `host`), embedded in the binary and parsed once per process (or Spin
//! instance) into one bundle per language. `{ $name }` is an argument, passed with [`tf`].
//! A new area is a new file in each language plus one line in [`AREAS`]. Tests check that
//! every key exists in both languages with the same arguments.

pub mod failure;

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
pub use qwen_contract::Language as Lang;

/// One area's catalog in both languages.
#[derive(Debug, Clone, Copy)]
pub struct Area {
    /// The area's name (the file name without `.ftl`).
    pub name: &'static str,
    /// Russian source.
    pub ru: &'static str,
    /// English source.
    pub en: &'static str,
}

macro_rules! area {
    ($name:literal) => {
        Area {
            name: $name,
            ru: include_str!(concat!("../locales/ru/", $name, ".ftl")),
            en: include_str!(concat!("../locales/en/", $name, ".ftl")),
        }
    };
}

/// Every catalog area. Keys are unique across areas (a duplicate is a test failure).
pub const AREAS: &[Area] = &[area!("bot"), area!("payments"), area!("host")];

/// The Fluent sources of `lang`, one per area.
pub fn sources(lang: Lang) -> impl Iterator<Item = (&'static str, &'static str)> {
    AREAS.iter().map(move |a| {
        let text = match lang {
            Lang::Ru => a.ru,
            Lang::En => a.en,
        };
        (a.name, text)
    })
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();

fn build(lang: Lang) -> Bundle {
    let locale = lang.as_str().parse().unwrap_or_default();
    let mut bundle = Bundle::new_concurrent(vec![locale]);
    bundle.set_use_isolating(false);
    for (area, source) in sources(lang) {
        let resource =
            FluentResource::try_new(source.to_owned()).unwrap_or_else(|(res, errors)| {
                tracing::error!(lang = %lang, area, ?errors, "message catalog has syntax errors");
                res
            });
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(lang = %lang, area, ?errors, "message catalog has duplicate keys");
        }
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
        tracing::error!(key, lang = %lang, "missing message key");
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
            lang = %lang,
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

    fn keys_of(source: &str) -> Vec<String> {
        source
            .lines()
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k))
            .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_owned)
            .collect()
    }

    fn keys(lang: Lang) -> Vec<String> {
        sources(lang).flat_map(|(_, s)| keys_of(s)).collect()
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
    fn catalogs_parse_without_errors_or_duplicates() {
        for lang in Lang::ALL.iter().copied() {
            let mut b = Bundle::new_concurrent(vec![]);
            for (area, source) in sources(lang) {
                let parsed = FluentResource::try_new(source.to_owned());
                assert!(
                    parsed.is_ok(),
                    "{lang}/{area}: {:?}",
                    parsed.err().map(|(_, e)| e)
                );
                assert!(
                    b.add_resource(parsed.expect("parsed")).is_ok(),
                    "{lang}/{area} repeats a key of another area"
                );
            }
        }
    }

    #[test]
    fn every_area_has_keys_in_both_languages() {
        for a in AREAS {
            assert!(!keys_of(a.ru).is_empty(), "{}: no ru keys", a.name);
            let ru: BTreeSet<String> = keys_of(a.ru).into_iter().collect();
            let en: BTreeSet<String> = keys_of(a.en).into_iter().collect();
            assert_eq!(ru, en, "area {} differs between ru and en", a.name);
        }
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let ru: BTreeSet<String> = keys(Lang::Ru).into_iter().collect();
        let en: BTreeSet<String> = keys(Lang::En).into_iter().collect();
        assert!(ru.len() > 60, "keys were read");
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
