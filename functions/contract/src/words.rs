//! The closed sets of words the contract uses: a job's status, why it failed, the user's
//! language, how a result was sent. Each is an enum that reads and writes the same
//! snake_case word on the wire, in SQL columns and in logs.

/// A word that is not one of an enum's cases (from a row, a query string or a message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {word:?}")]
pub struct UnknownWord {
    /// What was being read ("job status", "currency"…).
    pub kind: &'static str,
    /// The word as found.
    pub word: String,
}

/// Declares an enum of wire words: serde as the word, `as_str`, `ALL`, `Display` and
/// `FromStr` (an [`UnknownWord`] error for anything else). Used by this crate and by the
/// core for its own closed sets (payment status, method, currency).
#[macro_export]
macro_rules! wire_words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every case, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err($crate::UnknownWord { kind: $kind, word: s.to_owned() }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                word.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

wire_words! {
    /// Where a job is in its life. `succeeded`, `failed` and `cancelled` are final.
    pub enum JobStatus ("job status") {
        /// Charged and waiting in the stream.
        Queued = "queued",
        /// A host runs it (possibly again, with a higher attempt).
        Running = "running",
        /// The result was delivered.
        Succeeded = "succeeded",
        /// Failed for good; the charge was refunded.
        Failed = "failed",
        /// Cancelled while queued; the charge was refunded.
        Cancelled = "cancelled",
    }
}

impl JobStatus {
    /// Whether nothing can change the job any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

wire_words! {
    /// Why a job failed, machine-readable.
    pub enum FailureReason ("failure reason") {
        /// ComfyUI refused the workflow (400 from `/prompt`).
        ComfyValidation = "comfy_validation",
        /// ComfyUI failed while running the workflow.
        ComfyExecution = "comfy_execution",
        /// The run passed its deadline and was interrupted.
        Timeout = "timeout",
        /// The user blocked the bot (Telegram 403).
        TelegramBlocked = "telegram_blocked",
        /// The input photo could not be fetched from Telegram (gone, or refused).
        BadInput = "bad_input",
        /// An input file is larger than the host downloads (Telegram bots get at most 20 MB).
        InputTooLarge = "input_too_large",
        /// An input file is not an image the host can decode.
        InputUndecodable = "input_undecodable",
        /// An input image has more pixels than the host accepts.
        InputTooManyPixels = "input_too_many_pixels",
        /// An input image is animated (more than one frame).
        InputAnimated = "input_animated",
        /// The job has more input images than its workflow takes.
        InputTooManyImages = "input_too_many_images",
        /// Retryable failures used up the retry budget.
        RetriesExhausted = "retries_exhausted",
        /// The stream delivered the entry more often than allowed.
        RedeliveryLimit = "redelivery_limit",
        /// The edge could not put the job on the queue (Redis down); decided by the edge.
        QueueUnavailable = "queue_unavailable",
        /// A running job sent no event for longer than any run can last; ended by the edge's sweep.
        Stalled = "stalled",
        /// The job's stream entry could not be read (or was dead-lettered) by a host.
        UnreadableMessage = "unreadable_message",
    }
}

wire_words! {
    /// A language the bot speaks. Russian first.
    #[derive(Default)]
    pub enum Language ("language") {
        /// Russian.
        #[default]
        Ru = "ru",
        /// English.
        En = "en",
    }
}

impl Language {
    /// The language for a tag such as Telegram's `language_code` (`en-GB` → English);
    /// Russian for anything the bot does not speak.
    pub fn from_tag(tag: &str) -> Language {
        if tag.to_ascii_lowercase().starts_with("en") {
            Language::En
        } else {
            Language::Ru
        }
    }
}

wire_words! {
    /// How a result was sent to the user.
    pub enum SentAs ("sent as") {
        /// `sendPhoto` (Telegram recompresses it).
        Photo = "photo",
        /// `sendDocument` (the file as produced, for large results).
        Document = "document",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_is_an_error() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(*s));
            let json = serde_json::to_string(s).expect("json");
            assert_eq!(serde_json::from_str::<JobStatus>(&json).expect("back"), *s);
        }
        let err = "done".parse::<JobStatus>().unwrap_err();
        assert_eq!(err.to_string(), "unknown job status \"done\"");
        assert!(serde_json::from_str::<FailureReason>("\"oops\"").is_err());
    }

    #[test]
    fn language_from_tag() {
        assert_eq!(Language::from_tag("en-GB"), Language::En);
        assert_eq!(Language::from_tag("EN"), Language::En);
        assert_eq!(Language::from_tag("ru"), Language::Ru);
        assert_eq!(Language::from_tag("de"), Language::Ru);
        assert_eq!(Language::from_tag(""), Language::Ru);
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<_> = JobStatus::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [
                &JobStatus::Succeeded,
                &JobStatus::Failed,
                &JobStatus::Cancelled
            ]
        );
    }
}
