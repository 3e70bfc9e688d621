//! The dialog state of a chat, stored in key-value as versioned JSON.
//!
//! Images of the edit being prepared are *not* kept here but as rows
//! ([`qwen_core::drafts`]): the photos of an album arrive as concurrent updates, and the
//! key-value store has no compare-and-set.

use serde::{Deserialize, Serialize};

/// Version of the stored format; a stored state of another version resets to the main menu.
pub const STATE_VERSION: u32 = 1;

/// Where a chat is in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DialogState {
    /// The main menu (also: no flow in progress).
    #[default]
    MainMenu,
    /// Choosing a preset category.
    SelectPresetCategory,
    /// Choosing a preset of `category`, on `page` (0-based).
    SelectPreset {
        /// Category id.
        category: String,
        /// Page, 0-based.
        page: u32,
    },
    /// Preset chosen; waiting for 1–3 images, then "Start".
    AwaitingImageForPreset {
        /// The chosen preset.
        preset_id: String,
    },
    /// Custom prompt chosen; waiting for the first image.
    AwaitingImageForCustomPrompt,
    /// Custom prompt with at least one image; waiting for the prompt (or more images).
    AwaitingCustomPrompt,
    /// Looking at the profile.
    ViewingProfile,
    /// On the top-up screen, choosing an amount.
    AwaitingPaymentAmount,
    /// Choosing the language.
    ChoosingLanguage,
}

/// The stored envelope: `{"v":1,"state":{…}}`.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    v: u32,
    state: DialogState,
}

/// The key-value key of a chat's state.
pub fn key(chat_id: i64) -> String {
    format!("dialog:{chat_id}")
}

/// The stored form of `state`.
pub fn encode(state: &DialogState) -> Vec<u8> {
    let stored = Stored {
        v: STATE_VERSION,
        state: state.clone(),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

/// What was found in key-value for a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// A current state.
    State(DialogState),
    /// Nothing stored: a new chat (main menu, no message).
    Fresh,
    /// Garbage or another version: reset to the main menu and tell the user.
    Reset,
}

/// Decodes a stored value.
pub fn decode(bytes: Option<&[u8]>) -> Loaded {
    let Some(bytes) = bytes else {
        return Loaded::Fresh;
    };
    match serde_json::from_slice::<Stored>(bytes) {
        Ok(s) if s.v == STATE_VERSION => Loaded::State(s.state),
        _ => Loaded::Reset,
    }
}

/// One state of every kind, for tests that must cover them all.
#[cfg(test)]
pub(crate) fn examples() -> Vec<DialogState> {
    vec![
        DialogState::MainMenu,
        DialogState::SelectPresetCategory,
        DialogState::SelectPreset {
            category: "style".into(),
            page: 2,
        },
        DialogState::AwaitingImageForPreset {
            preset_id: "anime".into(),
        },
        DialogState::AwaitingImageForCustomPrompt,
        DialogState::AwaitingCustomPrompt,
        DialogState::ViewingProfile,
        DialogState::AwaitingPaymentAmount,
        DialogState::ChoosingLanguage,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_state() {
        for s in examples() {
            assert_eq!(decode(Some(&encode(&s))), Loaded::State(s));
        }
    }

    #[test]
    fn garbage_and_old_versions_reset() {
        assert_eq!(decode(None), Loaded::Fresh);
        assert_eq!(decode(Some(b"\xff\x00not json")), Loaded::Reset);
        assert_eq!(
            decode(Some(br#"{"v":0,"state":{"kind":"main_menu"}}"#)),
            Loaded::Reset
        );
        assert_eq!(
            decode(Some(br#"{"v":1,"state":{"kind":"flying"}}"#)),
            Loaded::Reset
        );
        assert_eq!(decode(Some(br#"{"state":"main_menu"}"#)), Loaded::Reset);
    }
}
