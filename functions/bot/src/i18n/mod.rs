//! Message catalogs in Russian and English.
//!
//! A plain catalog (one `(key, text)` table per language, [`ru::MESSAGES`] and
//! [`en::MESSAGES`]) with `{name}` placeholders: it builds for every target, costs nothing
//! at start-up and is checked by tests (same keys, same placeholders in both languages).

pub mod en;
pub mod ru;

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

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::Ru => ru::MESSAGES,
            Lang::En => en::MESSAGES,
        }
    }
}

/// The text of `key` in `lang`; the key itself (logged) when the catalog lacks it.
pub fn t(lang: Lang, key: &str) -> &str {
    match lang.table().iter().find(|(k, _)| *k == key) {
        Some((_, text)) => text,
        None => {
            tracing::error!(key, lang = lang.code(), "missing message key");
            key
        }
    }
}

/// The text of `key` in `lang` with each `{name}` replaced by its value in `args`.
pub fn tf(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The `{name}` placeholders of a text, sorted.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(table: &[(&str, &str)]) -> BTreeSet<String> {
        table.iter().map(|(k, _)| (*k).to_owned()).collect()
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let (ru, en) = (keys(ru::MESSAGES), keys(en::MESSAGES));
        let only_ru: Vec<_> = ru.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&ru).collect();
        assert!(only_ru.is_empty(), "keys only in ru: {only_ru:?}");
        assert!(only_en.is_empty(), "keys only in en: {only_en:?}");
    }

    #[test]
    fn no_duplicate_or_empty_entries() {
        for table in [ru::MESSAGES, en::MESSAGES] {
            assert_eq!(keys(table).len(), table.len(), "a key is listed twice");
            assert!(table.iter().all(|(_, text)| !text.trim().is_empty()));
        }
    }

    #[test]
    fn placeholders_match_between_languages() {
        for (key, ru_text) in ru::MESSAGES {
            let en_text = t(Lang::En, key);
            assert_eq!(placeholders(ru_text), placeholders(en_text), "key {key}");
        }
    }

    #[test]
    fn formats_arguments() {
        let text = tf(Lang::Ru, "balance", &[("balance", "42".into())]);
        assert!(text.contains("42") && !text.contains('{'), "{text}");
        assert_eq!(
            t(Lang::Ru, "prompt_invalid"),
            "Промпт должен быть от 1 до 500 символов"
        );
    }
}
