//! The expected wait in words: "≈ 40 s", "≈ 3 min", "≈ 2 h", or that the queue is paused
//! (no live GPU host, so no number).

use qwen_core::fleet::Wait;

use qwen_texts::{Lang, t, tf};

/// The wait, short (for the Start button): rounded up to 5 s under 90 s, to minutes under
/// 90 minutes, else to hours.
pub fn short(lang: Lang, wait: Wait) -> String {
    let Wait::About { seconds } = wait else {
        return t(lang, "wait_paused_short");
    };
    let (key, n) = if seconds < 90 {
        ("wait_seconds", seconds.div_ceil(5).max(1) * 5)
    } else if seconds < 90 * 60 {
        ("wait_minutes", seconds.div_ceil(60))
    } else {
        ("wait_hours", seconds.div_ceil(3600))
    };
    tf(lang, key, &[("n", n.to_string())])
}

/// The wait as a line of the "job accepted" reply; empty when it could not be read.
pub fn line(lang: Lang, wait: Option<Wait>) -> String {
    match wait {
        None => String::new(),
        Some(Wait::Paused) => t(lang, "job_wait_paused"),
        Some(w) => tf(lang, "job_wait", &[("wait", short(lang, w))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn about(seconds: u64) -> Wait {
        Wait::About { seconds }
    }

    #[test]
    fn rounds_to_what_people_read() {
        assert_eq!(short(Lang::En, about(0)), "≈ 5 s");
        assert_eq!(short(Lang::En, about(38)), "≈ 40 s");
        assert_eq!(short(Lang::En, about(89)), "≈ 90 s");
        assert_eq!(short(Lang::En, about(90)), "≈ 2 min");
        assert_eq!(short(Lang::En, about(170)), "≈ 3 min");
        assert_eq!(short(Lang::Ru, about(170)), "≈ 3 мин");
        assert_eq!(short(Lang::En, about(5_399)), "≈ 90 min");
        assert_eq!(short(Lang::En, about(5_400)), "≈ 2 h");
        assert_eq!(short(Lang::Ru, Wait::Paused), "очередь на паузе");
    }

    #[test]
    fn the_reply_line_says_paused_plainly() {
        assert_eq!(line(Lang::En, None), "");
        assert_eq!(line(Lang::En, Some(about(40))), "⏱ Expected wait: ≈ 40 s.");
        assert!(line(Lang::Ru, Some(Wait::Paused)).starts_with("⏸ Очередь на паузе"));
    }
}
