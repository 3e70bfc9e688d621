//! What the host says to users, in plain words, in their language. The words themselves
//! live in the shared catalogs (`qwen-texts`, area `host`); this module picks the key.

use qwen_contract::{FailureReason, Language};
use qwen_texts::tf;

/// The status message while a job waits for or runs on the GPU, with a progress bar.
pub fn progress(lang: Language, percent: u32) -> String {
    let percent = percent.min(100);
    let filled = (percent / 10) as usize;
    let bar = format!("{}{}", "▓".repeat(filled), "░".repeat(10 - filled));
    tf(
        lang,
        "host_progress",
        &[("percent", percent.to_string()), ("bar", bar)],
    )
}

/// The caption of the result.
pub fn done(lang: Language) -> String {
    qwen_texts::t(lang, "host_done")
}

/// The failure message for a machine reason: plain words, never a trace, and the refund
/// (the shared catalog's text for the reason; `max_megapixels` is the host's input limit).
pub fn failure(lang: Language, why: FailureReason, max_megapixels: u32) -> String {
    qwen_texts::failure::text(lang, why, max_megapixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_language_and_never_leak_reasons() {
        assert_eq!(
            progress(Language::Ru, 40),
            "⏳ Обрабатываю фото… 40%\n▓▓▓▓░░░░░░"
        );
        assert!(progress(Language::En, 140).contains("100%\n▓▓▓▓▓▓▓▓▓▓"));
        assert!(failure(Language::Ru, FailureReason::Timeout, 40).contains("Средства"));
        for why in FailureReason::ALL {
            let text = failure(Language::En, *why, 40);
            assert!(text.starts_with("😔 ") && text.contains("credits have been returned"));
            assert!(!text.contains(why.as_str()), "{text}");
        }
        assert_eq!(done(Language::En), "✅ Done!");
    }
}
