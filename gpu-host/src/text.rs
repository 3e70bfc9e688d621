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

/// The failure message for a machine reason: plain words, never a trace, and the refund.
pub fn failure(lang: Language, why: FailureReason) -> String {
    let key = match why {
        FailureReason::BadInput => "host_failed_bad_input",
        FailureReason::Timeout => "host_failed_timeout",
        FailureReason::ComfyValidation | FailureReason::ComfyExecution => "host_failed_model",
        FailureReason::TelegramBlocked
        | FailureReason::RetriesExhausted
        | FailureReason::RedeliveryLimit
        | FailureReason::QueueUnavailable => "host_failed_unavailable",
    };
    qwen_texts::t(lang, key)
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
        assert!(failure(Language::Ru, FailureReason::Timeout).contains("Средства"));
        for why in FailureReason::ALL {
            let text = failure(Language::En, *why);
            assert!(text.starts_with("😔 ") && text.contains("credits have been returned"));
            assert!(!text.contains(why.as_str()), "{text}");
        }
        assert_eq!(done(Language::En), "✅ Done!");
    }
}
