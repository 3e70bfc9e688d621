//! The ComfyUI client's parsing against the bytes a real ComfyUI 0.33 sent
//! (`tests/fixtures/comfyui-wire/`).

use std::path::PathBuf;

use gpu_host::comfy::run::from_history;
use gpu_host::comfy::ws::parse_event;
use gpu_host::comfy::{ComfyError, HistoryEntry, WsEvent};
use serde_json::Value;

/// A recorded file.
///
/// # Panics
/// When it is missing or not JSON (the recordings are part of the repository).
fn wire(name: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/comfyui-wire");
    let text =
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("recording {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("recording {name}: {e}"))
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
    let run = wire("workflow_basic_run.json");
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
    let ok = wire("workflow_basic_history_by_id.json");
    let outcome = from_history(&history(&ok), Some("3")).expect("success");
    assert_eq!(outcome.images[0].filename, "wire_00001_.png");
    assert_eq!(outcome.images[0].subfolder, "sample");
    let err = wire("workflow_runtime_error_run.json");
    assert!(
        matches!(from_history(&history(&err["history"]), None), Err(ComfyError::Execution(m)) if m.contains("RegexReplace"))
    );
    let int = wire("interrupt_run.json");
    let h = history(&int["history_A_interrupted_global"]);
    assert!(matches!(
        from_history(&h, None),
        Err(ComfyError::Interrupted)
    ));
}

/// The fake ComfyUI sends a run's messages in the order the real one did.
#[tokio::test(flavor = "current_thread")]
async fn fake_comfy_replays_the_recorded_message_order() {
    use futures::StreamExt;
    let run = wire("workflow_basic_run.json");
    let kinds = |frames: &[Value]| -> Vec<String> {
        frames
            .iter()
            .filter_map(|f| f["type"].as_str().map(str::to_owned))
            .filter(|k| k != "progress_state")
            .collect()
    };
    let recorded: Vec<Value> = run["ws"]
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| f["json"].clone())
        .collect();
    let fake = testkit::fakes::comfyui::FakeComfy::start().await;
    fake.set_steps(0);
    let client = gpu_host::comfy::ComfyClient::new(
        &fake.url(),
        &format!("{}/system_stats", fake.url()),
        "wire-test",
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(client.ws_url())
        .await
        .expect("ws");
    let hello = ws.next().await.expect("hello").expect("frame");
    let hello: Value = serde_json::from_str(hello.to_text().expect("text")).expect("json");
    assert_eq!(
        hello["data"]["sid"], "wire-test",
        "the first frame is status with our sid"
    );
    let name = client
        .upload_image("sample.png", testkit::fakes::comfyui::TINY_PNG.to_vec())
        .await
        .expect("upload");
    let graph: Value = run["post"]["request"]["json"]["prompt"].clone();
    assert_eq!(name, graph["1"]["inputs"]["image"]);
    let pid = qwen_contract::comfy_prompt_id(&"wire".into(), 1);
    client.submit(&graph, &pid).await.expect("submit");
    let mut got = vec![];
    while let Some(Ok(msg)) = ws.next().await {
        let v: Value = serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or(Value::Null);
        let done = v["type"] == "executing" && v["data"]["node"].is_null();
        got.push(v);
        if done {
            break;
        }
    }
    assert_eq!(kinds(&got), kinds(&recorded));
}
