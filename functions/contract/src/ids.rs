//! Newtypes for the ids that travel together and must not be swapped: a Telegram user id
//! and a chat id are both integers, a job id and a file id both strings. On the wire each
//! is its bare value (`#[serde(transparent)]`).

use serde::{Deserialize, Serialize};

/// A Telegram user id (who pays and owns the job).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// A Telegram chat id (where messages go; the same number as the user in a private chat,
/// but not in a group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatId(pub i64);

/// A job's id: a UUID string chosen by the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl JobId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for JobId {
    fn from(s: &str) -> Self {
        JobId(s.to_owned())
    }
}

impl From<String> for JobId {
    fn from(s: String) -> Self {
        JobId(s)
    }
}

macro_rules! display {
    ($($t:ty),+) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    )+};
}
display!(UserId, ChatId, JobId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_values_on_the_wire() {
        assert_eq!(serde_json::to_string(&UserId(7)).expect("json"), "7");
        assert_eq!(
            serde_json::to_string(&JobId::from("a")).expect("json"),
            "\"a\""
        );
        assert_eq!(
            serde_json::from_str::<ChatId>("-5").expect("back"),
            ChatId(-5)
        );
        assert_eq!(JobId::from("x").to_string(), "x");
    }
}
