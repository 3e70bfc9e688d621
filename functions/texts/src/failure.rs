//! The words a user reads when their job fails, one text per machine reason (or group of
//! reasons), shared by the GPU host (which reports most failures) and the edge (which ends
//! stalled and unreadable jobs itself).

use qwen_contract::FailureReason;

use crate::{Lang, tf};

/// The catalog key (area `host`) of the failure text for `why`.
pub fn key(why: FailureReason) -> &'static str {
    match why {
        FailureReason::BadInput => "host_failed_bad_input",
        FailureReason::InputTooLarge => "host_failed_input_too_large",
        FailureReason::InputUndecodable => "host_failed_input_undecodable",
        FailureReason::InputTooManyPixels => "host_failed_input_too_many_pixels",
        FailureReason::InputAnimated => "host_failed_input_animated",
        FailureReason::InputTooManyImages => "host_failed_input_too_many_images",
        FailureReason::Timeout => "host_failed_timeout",
        FailureReason::Stalled => "host_failed_stalled",
        FailureReason::ComfyValidation | FailureReason::ComfyExecution => "host_failed_model",
        FailureReason::TelegramBlocked
        | FailureReason::RetriesExhausted
        | FailureReason::RedeliveryLimit
        | FailureReason::QueueUnavailable
        | FailureReason::UnreadableMessage => "host_failed_unavailable",
    }
}

/// The failure text for `why` in `lang`: plain words, never a trace, and the refund.
/// `max_megapixels` fills the limit into the "too many pixels" text (the host's setting).
pub fn text(lang: Lang, why: FailureReason, max_megapixels: u32) -> String {
    tf(lang, key(why), &[("max", max_megapixels.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_words_with_the_refund_and_no_machine_word() {
        for lang in Lang::ALL {
            for why in FailureReason::ALL {
                let s = text(*lang, *why, 40);
                assert!(s.starts_with("😔 "), "{s}");
                assert!(!s.contains(why.as_str()), "{s}");
                assert!(
                    s.contains("Средства возвращены") || s.contains("credits have been returned"),
                    "{s}"
                );
            }
        }
        assert!(text(Lang::En, FailureReason::InputTooManyPixels, 40).contains("40 megapixels"));
    }

    #[test]
    fn input_causes_are_told_apart() {
        let causes = [
            FailureReason::BadInput,
            FailureReason::InputTooLarge,
            FailureReason::InputUndecodable,
            FailureReason::InputTooManyPixels,
            FailureReason::InputAnimated,
            FailureReason::InputTooManyImages,
        ];
        let mut seen: Vec<String> = causes.iter().map(|c| text(Lang::Ru, *c, 40)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), causes.len(), "each cause has its own words");
        assert!(!text(Lang::En, FailureReason::InputUndecodable, 40).contains("20 MB"));
    }
}
