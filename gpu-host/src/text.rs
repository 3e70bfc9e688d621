//! What the host says to users, in plain words, in their language (`ru` or `en`).

use qwen_core::contract::failure_reason as reason;

fn ru(lang: &str) -> bool {
    lang.eq_ignore_ascii_case("ru")
}

/// The status message while a job waits for or runs on the GPU, with a progress bar.
pub fn progress(lang: &str, percent: u32) -> String {
    let percent = percent.min(100);
    let filled = (percent / 10) as usize;
    let bar = format!("{}{}", "▓".repeat(filled), "░".repeat(10 - filled));
    if ru(lang) {
        format!("⏳ Обрабатываю фото… {percent}%\n{bar}")
    } else {
        format!("⏳ Editing your photo… {percent}%\n{bar}")
    }
}

/// The caption of the result.
pub fn done(lang: &str) -> String {
    if ru(lang) {
        "✅ Готово!"
    } else {
        "✅ Done!"
    }
    .to_owned()
}

/// The failure message for a machine `reason`: plain words, never a trace.
pub fn failure(lang: &str, why: &str) -> String {
    let (ru_text, en_text) = match why {
        reason::BAD_INPUT => (
            "Не удалось получить фото: возможно, оно больше 20 МБ. Отправьте фото поменьше.",
            "I could not get your photo: it may be larger than 20 MB. Please send a smaller one.",
        ),
        reason::TIMEOUT => (
            "Обработка заняла слишком много времени и была остановлена.",
            "The edit took too long and was stopped.",
        ),
        reason::COMFY_VALIDATION | reason::COMFY_EXECUTION => (
            "Не удалось обработать фото.",
            "Sorry, I could not edit this photo.",
        ),
        _ => (
            "Сейчас не получается обработать фото. Попробуйте чуть позже.",
            "I cannot edit photos right now. Please try again a bit later.",
        ),
    };
    let refund_ru = "Средства возвращены на баланс.";
    let refund_en = "Your credits have been returned.";
    if ru(lang) {
        format!("😔 {ru_text} {refund_ru}")
    } else {
        format!("😔 {en_text} {refund_en}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_language_and_never_leak_reasons() {
        assert!(progress("ru", 40).contains("40%"));
        assert!(progress("en", 140).contains("100%"));
        assert!(failure("ru", reason::TIMEOUT).contains("Средства"));
        assert!(!failure("en", reason::COMFY_EXECUTION).contains("comfy"));
    }
}
