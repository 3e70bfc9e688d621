//! `wit/contract.wit` is the one source of truth for the edge–GPU contract. This test parses
//! it with `wit-parser` and fails when the core's serde types drift from it: a field added,
//! removed or renamed, a type that changed kind, a variant case that differs.

use std::collections::BTreeMap;
use std::path::Path;

use qwen_contract::*;
use serde_json::Value;
use wit_parser::{Resolve, Type, TypeDefKind, TypeId};

fn resolve() -> (Resolve, BTreeMap<String, TypeId>) {
    let mut resolve = Resolve::default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
    let (pkg, _) = resolve.push_dir(&dir).expect("wit/ parses");
    let package = &resolve.packages[pkg];
    assert_eq!(package.name.to_string(), "qwenedit:contract@1.0.0");
    let iface = package.interfaces["types"];
    let types = resolve.interfaces[iface]
        .types
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    (resolve, types)
}

fn snake(s: &str) -> String {
    s.replace('-', "_")
}

/// Checks that `value` (serde's JSON of a Rust type) has exactly the WIT type's shape.
fn check(resolve: &Resolve, ty: &Type, value: &Value, at: &str) {
    match ty {
        Type::String => assert!(value.is_string(), "{at}: expected string, got {value}"),
        Type::Bool => assert!(value.is_boolean(), "{at}: expected bool, got {value}"),
        Type::U32 | Type::U64 => assert!(value.is_u64(), "{at}: expected unsigned, got {value}"),
        Type::S32 | Type::S64 => assert!(value.is_i64(), "{at}: expected signed, got {value}"),
        Type::F64 => assert!(value.is_f64(), "{at}: expected a float, got {value}"),
        Type::Id(id) => check_def(resolve, *id, value, at),
        other => panic!("{at}: WIT type {other:?} has no JSON mapping in this contract"),
    }
}

fn check_def(resolve: &Resolve, id: TypeId, value: &Value, at: &str) {
    match &resolve.types[id].kind {
        TypeDefKind::Record(r) => {
            let obj = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: expected object, got {value}"));
            let wit: Vec<String> = r.fields.iter().map(|f| snake(&f.name)).collect();
            let mut rust: Vec<String> = obj.keys().filter(|k| *k != "type").cloned().collect();
            let mut sorted = wit.clone();
            sorted.sort();
            rust.sort();
            assert_eq!(rust, sorted, "{at}: fields differ between Rust and WIT");
            for f in &r.fields {
                check(
                    resolve,
                    &f.ty,
                    &obj[&snake(&f.name)],
                    &format!("{at}.{}", f.name),
                );
            }
        }
        TypeDefKind::Option(inner) => {
            if !value.is_null() {
                check(resolve, inner, value, at);
            }
        }
        TypeDefKind::List(inner) => {
            for (i, item) in value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: expected array"))
                .iter()
                .enumerate()
            {
                check(resolve, inner, item, &format!("{at}[{i}]"));
            }
        }
        TypeDefKind::Variant(v) => {
            let tag = value["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: variant without \"type\""));
            let case = v
                .cases
                .iter()
                .find(|c| snake(&c.name) == tag)
                .unwrap_or_else(|| panic!("{at}: no WIT case {tag}"));
            match &case.ty {
                Some(payload) => check(resolve, payload, value, &format!("{at}<{tag}>")),
                None => assert_eq!(
                    value.as_object().map(|o| o.len()),
                    Some(1),
                    "{at}: case {tag} has no payload"
                ),
            }
        }
        TypeDefKind::Enum(e) => {
            let word = value
                .as_str()
                .unwrap_or_else(|| panic!("{at}: expected an enum word, got {value}"));
            assert!(
                e.cases.iter().any(|c| snake(&c.name) == word),
                "{at}: {word:?} is no case of the WIT enum"
            );
        }
        TypeDefKind::Type(t) => check(resolve, t, value, at),
        other => panic!("{at}: unsupported WIT kind {other:?}"),
    }
}

fn ty(types: &BTreeMap<String, TypeId>, name: &str) -> Type {
    Type::Id(
        *types
            .get(name)
            .unwrap_or_else(|| panic!("wit has no type {name}")),
    )
}

fn message() -> JobMessage {
    JobMessage {
        v: 1,
        job_id: JobId::from("j"),
        user_id: UserId(1),
        chat_id: ChatId(2),
        file_ids: vec!["f".into()],
        prompt: "p".into(),
        preset_id: Some("anime".into()),
        seed: 3,
        workflow: "w".into(),
        lang: Language::Ru,
        created_at: 4,
    }
}

#[test]
fn job_message_matches_wit() {
    let (resolve, types) = resolve();
    let t = ty(&types, "job-message");
    check(
        &resolve,
        &t,
        &serde_json::to_value(message()).expect("json"),
        "job-message",
    );
    let mut none = message();
    none.preset_id = None;
    check(
        &resolve,
        &t,
        &serde_json::to_value(none).expect("json"),
        "job-message",
    );
}

#[test]
fn every_job_event_case_matches_wit() {
    let (resolve, types) = resolve();
    let out = OutputMeta {
        comfy_prompt_id: "p".into(),
        bytes: 1,
        sent_as: SentAs::Photo,
        run_ms: 2,
    };
    let fail = Failure {
        reason: FailureReason::Timeout,
        user_message: "m".into(),
    };
    let kinds = [
        JobEventKind::Claimed,
        JobEventKind::Started,
        JobEventKind::Delivering,
        JobEventKind::Succeeded(out),
        JobEventKind::Failed(fail),
    ];
    let wit_cases = match &resolve.types[types["job-event-kind"]].kind {
        TypeDefKind::Variant(v) => v.cases.len(),
        _ => 0,
    };
    assert_eq!(
        wit_cases,
        kinds.len(),
        "a WIT case has no Rust counterpart or the reverse"
    );
    for kind in kinds {
        let ev = JobEvent {
            v: 1,
            attempt: 1,
            host: "h".into(),
            at: 5,
            kind,
        };
        check(
            &resolve,
            &ty(&types, "job-event"),
            &serde_json::to_value(ev).expect("json"),
            "job-event",
        );
    }
}

#[test]
fn event_reply_matches_wit() {
    let (resolve, types) = resolve();
    let reply = EventReply {
        status: JobStatus::Running,
        proceed: true,
        attempt: 1,
    };
    check(
        &resolve,
        &ty(&types, "event-reply"),
        &serde_json::to_value(reply).expect("json"),
        "event-reply",
    );
}

/// The cases of the WIT enum `name`, snake_case.
fn wit_enum(name: &str) -> Vec<String> {
    let (resolve, types) = resolve();
    match &resolve.types[types[name]].kind {
        TypeDefKind::Enum(e) => e.cases.iter().map(|c| snake(&c.name)).collect(),
        other => panic!("{name} is not an enum in WIT: {other:?}"),
    }
}

fn words<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

#[test]
fn every_enum_has_exactly_the_wit_cases() {
    assert_eq!(words(JobStatus::ALL), wit_enum("job-status"));
    assert_eq!(words(FailureReason::ALL), wit_enum("failure-reason"));
    assert_eq!(words(Language::ALL), wit_enum("language"));
    assert_eq!(words(SentAs::ALL), wit_enum("sent-as"));
}

#[test]
fn host_heartbeat_matches_wit() {
    let (resolve, types) = resolve();
    let full = HostHeartbeat {
        v: 1,
        host: "gpu-a".into(),
        version: "0.1.0".into(),
        workflow: "qwen_edit_2511".into(),
        comfy_up: true,
        current_job: Some(JobId::from("j")),
        jobs_done: 3,
        run_ms_mean: Some(30_000),
        run_ms_p90: Some(41_000),
        busy_ratio: 0.5,
        at: 9,
    };
    let empty = HostHeartbeat {
        current_job: None,
        run_ms_mean: None,
        run_ms_p90: None,
        busy_ratio: 0.0,
        ..full.clone()
    };
    for hb in [full, empty] {
        check(
            &resolve,
            &ty(&types, "host-heartbeat"),
            &serde_json::to_value(hb).expect("json"),
            "host-heartbeat",
        );
    }
}
