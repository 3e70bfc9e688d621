//! The ComfyUI client's parsing against the bytes a real ComfyUI 0.33 sent
//! (`shared/comfyui-wire/`, beside the repository; skipped when absent).

use std::path::PathBuf;

use gpu_host::comfy::run::from_history;
use gpu_host::comfy::ws::parse_event;
use gpu_host::comfy::{ComfyError, HistoryEntry, WsEvent};
use serde_json::Value;

fn wire(name: &str) -> Option<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/comfyui-wire");
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn history(v: &Value) -> HistoryEntry {
    let body = &v["response"]["json"];
    let (_, entry) = body
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("one entry");
    HistoryEntry::from_json(entry)
}

#[test]
fn recorded_run_ends_with_executing_null_after_success() {
    let Some(run) = wire("workflow_basic_run.json") else {
        return;
    };
    let events: Vec<WsEvent> = run["ws"]
        .as_array()
        .expect("frames")
        .iter()
        .filter_map(|f| parse_event(f["json"]["type"].as_str()?, &f["json"]["data"]))
        .collect();
    assert_eq!(events.last(), Some(&WsEvent::Done));
    let success = events
        .iter()
        .position(|e| *e == WsEvent::Success)
        .expect("success");
    assert_eq!(success, events.len() - 2);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, WsEvent::Executed { node, .. } if node == "3"))
    );
}

#[test]
fn recorded_histories_classify_success_error_and_interrupt() {
    let Some(ok) = wire("workflow_basic_history_by_id.json") else {
        return;
    };
    let outcome = from_history(&history(&ok), Some("3")).expect("success");
    assert_eq!(outcome.images[0].filename, "wire_00001_.png");
    assert_eq!(outcome.images[0].subfolder, "sample");
    let Some(err) = wire("workflow_runtime_error_run.json") else {
        return;
    };
    assert!(
        matches!(from_history(&history(&err["history"]), None), Err(ComfyError::Execution(m)) if m.contains("RegexReplace"))
    );
    let Some(int) = wire("interrupt_run.json") else {
        return;
    };
    let h = history(&int["history_A_interrupted_global"]);
    assert!(matches!(
        from_history(&h, None),
        Err(ComfyError::Interrupted)
    ));
}
