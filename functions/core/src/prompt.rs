//! What an edit asks of the model: a prompt, 1–500 characters and not only spaces — the one
//! rule for presets' prompts and users' own.

use crate::error::{CoreError, CoreResult};

/// Longest prompt a preset or a user may give (characters).
pub const MAX_PROMPT_CHARS: usize = 500;

/// A prompt that passed the rule; holds the text trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(String);

impl Prompt {
    /// Checks `text` and keeps it trimmed.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] (`invalid_prompt`) for an empty, blank or overlong text; the
    /// message gives the length it found.
    pub fn parse(text: &str) -> CoreResult<Prompt> {
        let n = text.chars().count();
        if text.trim().is_empty() || n > MAX_PROMPT_CHARS {
            return Err(CoreError::invalid(
                "invalid_prompt",
                format!("the prompt must be 1 to {MAX_PROMPT_CHARS} characters (got {n})"),
            ));
        }
        Ok(Prompt(text.trim().to_owned()))
    }

    /// The trimmed text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The trimmed text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert_eq!(
            Prompt::parse("  make it blue ").map(Prompt::into_string),
            Ok("make it blue".into())
        );
        assert!(Prompt::parse("").is_err());
        assert!(Prompt::parse(" \n\t").is_err());
        assert!(Prompt::parse(&"я".repeat(500)).is_ok());
        let long = Prompt::parse(&"я".repeat(501)).map(|_| ());
        assert!(
            matches!(&long, Err(CoreError::Invalid { message, .. }) if message.contains("501")),
            "{long:?}"
        );
    }
}
