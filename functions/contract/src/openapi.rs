//! OpenAPI schemas (`utoipa`) for the contract's words, ids and event shapes, behind the
//! `openapi` feature: the edge's REST document names them; the gpu-host never builds this.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::{ChatId, FailureReason, JobId, JobStatus, Language, SentAs, UserId};

#[doc(hidden)]
pub use utoipa as __utoipa;

/// A string schema whose value is one of `words`.
pub fn words_schema(words: &[&'static str], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(words.iter().copied()))
        .description(Some(description))
        .into()
}

/// Implements `utoipa::PartialSchema` and `utoipa::ToSchema` for a [`crate::wire_words!`]
/// enum: a string enum of its words, named after the type.
#[macro_export]
macro_rules! word_schema {
    ($name:ident, $description:literal) => {
        impl $crate::openapi::__utoipa::PartialSchema for $name {
            fn schema() -> $crate::openapi::__utoipa::openapi::RefOr<
                $crate::openapi::__utoipa::openapi::schema::Schema,
            > {
                let words: Vec<&'static str> = $name::ALL.iter().map(|w| w.as_str()).collect();
                $crate::openapi::words_schema(&words, $description)
            }
        }

        impl $crate::openapi::__utoipa::ToSchema for $name {}
    };
}

word_schema!(
    JobStatus,
    "Where a job is in its life; succeeded, failed and cancelled are final."
);
word_schema!(FailureReason, "Why a job failed, machine-readable.");
word_schema!(Language, "A language the bot speaks.");
word_schema!(SentAs, "How a result was sent to the user.");

fn id_schema(ty: Type, description: &str) -> RefOr<Schema> {
    let b = ObjectBuilder::new()
        .schema_type(ty.clone())
        .description(Some(description));
    if ty == Type::Integer {
        b.format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .into()
    } else {
        b.into()
    }
}

impl PartialSchema for UserId {
    fn schema() -> RefOr<Schema> {
        id_schema(Type::Integer, "A Telegram user id.")
    }
}
impl ToSchema for UserId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserId")
    }
}

impl PartialSchema for ChatId {
    fn schema() -> RefOr<Schema> {
        id_schema(Type::Integer, "A Telegram chat id.")
    }
}
impl ToSchema for ChatId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ChatId")
    }
}

impl PartialSchema for JobId {
    fn schema() -> RefOr<Schema> {
        id_schema(Type::String, "A job id (UUID).")
    }
}
impl ToSchema for JobId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JobId")
    }
}
