//! The genuine ComfyUI 0.33.0 (CPU, loopback) instead of the fake: the Qwen graph as the
//! host builds it is refused only for its model files, jobs run end to end through a real
//! `gpu-host` process (a host killed mid-run, ComfyUI restarted mid-run), and the fake
//! answers every request a client depends on as the genuine server does.
//!
//! Skipped with a message where ComfyUI is not installed (`testkit::genuine`), failing
//! instead under `CI`.

mod common;
mod genuine_wire;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use gpu_host::workflow::{JobInputs, Template};
use serde_json::{Value, json};
use testkit::fakes::comfyui::{FakeComfy, TINY_PNG};
use testkit::genuine::{self, GenuineComfy};

/// Longest wait for one job on the genuine server (CPU runs of a few seconds).
const WAIT: Duration = Duration::from_secs(120);
/// The few-second CPU workflow in `tests/fixtures/workflows/`.
const CPU_WORKFLOW: &str = "cpu_blur";

fn repo_workflows() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows")
}

fn fixture_workflows() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workflows")
}

/// The genuine server checks the Qwen graph (40 steps, and with the Lightning LoRA) and the
/// fake answers the wire requests as it does; one ComfyUI for both.
#[tokio::test(flavor = "current_thread")]
async fn genuine_server_takes_our_graphs_and_the_fake_answers_alike() {
    let Some(install) = genuine::installed_or_skip("genuine wire") else {
        return;
    };
    let comfy = GenuineComfy::start_temp(&install).await;
    for lightning in [false, true] {
        qwen_graph_misses_only_its_model_files(&comfy.url(), lightning).await;
    }
    let real = genuine_wire::observe(&comfy.url()).await;
    let fake = FakeComfy::start().await;
    let dirs = tempfile::tempdir().expect("temp dir");
    fake.set_dirs(&dirs.path().join("input"), &dirs.path().join("output"));
    fake.set_run_time(Duration::from_millis(1500));
    fake.set_steps(0);
    let faked = genuine_wire::observe(&fake.url()).await;
    let differences = genuine_wire::differences(&real, &faked);
    assert!(
        differences.is_empty(),
        "the fake differs from the genuine ComfyUI:\n{}",
        differences.join("\n")
    );
}

/// `POST /prompt` of the Qwen graph built by the host's own code answers 400 naming exactly
/// the four model files (`value_not_in_list` on the loaders) and nothing else.
async fn qwen_graph_misses_only_its_model_files(url: &str, lightning: bool) {
    let image = genuine_wire::upload(url, "qwen-input.png", TINY_PNG, true).await;
    assert_eq!(image.0, 200, "upload: {:?}", image);
    let mut template = Template::load(&repo_workflows(), "qwen_edit_2511").expect("template");
    template.set_switch("lightning", lightning);
    let images = vec!["qwen-input.png".to_owned()];
    let graph = template
        .build(&JobInputs {
            images: &images,
            prompt: "make the sky pink",
            seed: 42,
            output_prefix: "qwen_edit/genuine",
        })
        .expect("build");
    let body = json!({"prompt": graph, "client_id": "genuine-qwen"});
    let (status, _, text) = genuine_wire::request(url, "POST", "/prompt", Some(body)).await;
    let answer: Value = serde_json::from_str(&text).expect("a JSON answer");
    assert_eq!(status, 400, "lightning={lightning}: {answer}");
    assert_eq!(
        answer["error"]["type"], "prompt_outputs_failed_validation",
        "{answer}"
    );
    let found = model_errors(&graph, &answer);
    let want: BTreeSet<(String, String, String)> = [
        ("UNETLoader", "unet_name"),
        ("CLIPLoader", "clip_name"),
        ("VAELoader", "vae_name"),
        ("LoraLoaderModelOnly", "lora_name"),
    ]
    .iter()
    .map(|(c, i)| {
        (
            (*c).to_owned(),
            (*i).to_owned(),
            "value_not_in_list".to_owned(),
        )
    })
    .collect();
    assert_eq!(found, want, "lightning={lightning}: {answer}");
}

/// (class, input, error type) of every node error, each checked to name the graph's own
/// model file.
fn model_errors(graph: &Value, answer: &Value) -> BTreeSet<(String, String, String)> {
    let mut found = BTreeSet::new();
    let nodes = answer["node_errors"].as_object().expect("node_errors");
    for (id, node) in nodes {
        let class = node["class_type"].as_str().expect("class_type");
        assert_eq!(graph[id]["class_type"], class, "node {id}");
        for e in node["errors"].as_array().expect("errors") {
            let input = e["extra_info"]["input_name"].as_str().expect("input_name");
            let value = &graph[id]["inputs"][input];
            assert_eq!(&e["extra_info"]["received_value"], value, "node {id}");
            assert!(
                value.as_str().is_some_and(|v| v.ends_with(".safetensors")),
                "node {id}: {input} = {value} is not a model file"
            );
            let kind = e["type"].as_str().expect("type");
            found.insert((class.to_owned(), input.to_owned(), kind.to_owned()));
        }
    }
    found
}

/// Jobs through a real host process on the genuine server: model-free jobs, then the
/// few-second CPU workflow with the host killed mid-run and with ComfyUI restarted mid-run.
#[tokio::test(flavor = "current_thread")]
async fn jobs_end_to_end_on_the_genuine_server() {
    let Some(install) = genuine::installed_or_skip("genuine jobs") else {
        return;
    };
    let mut comfy = GenuineComfy::start_temp(&install).await;
    let mut w = World::start().await;
    w.use_comfy(&comfy.url());
    model_free_jobs_succeed(&w).await;
    let mut host = Host(w.spawn_child_with("host-b", &cpu_env()));
    a_killed_host_is_taken_over(&w, &comfy, &mut host).await;
    a_comfy_restart_does_not_burn_the_job(&w, &mut comfy).await;
    assert_eq!(w.api.ledger_mismatch().await, 0, "the ledger is exact");
    host.stop().await;
    w.cleanup().await;
}

/// The child host, killed if the test fails before it stops it.
struct Host(std::process::Child);

impl Host {
    async fn stop(&mut self) {
        sigterm(&self.0);
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end && matches!(self.0.try_wait(), Ok(None)) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cpu_env() -> Vec<(&'static str, String)> {
    vec![("WORKFLOWS_DIR", fixture_workflows().display().to_string())]
}

async fn model_free_jobs_succeed(w: &World) {
    let mut host = Host(w.spawn_child("host-a"));
    let ids: Vec<String> = (0..3).map(|i| format!("genuine-free-{i}")).collect();
    for id in &ids {
        w.submit(id, "en").await;
    }
    for id in &ids {
        let st = w.api.wait_final(id, WAIT).await;
        assert_eq!(st.status, "succeeded", "{id}: {st:?}");
        assert_eq!((st.attempt, st.refunds), (1, 0), "{id}: {st:?}");
    }
    host.stop().await;
    assert_eq!(photos(w).len(), ids.len(), "one photo per job");
}

/// Submits a job of the few-second CPU workflow.
async fn submit_cpu(w: &World, job_id: &str) {
    let mut msg = job(job_id, &format!("file-{job_id}"), "en");
    msg.workflow = CPU_WORKFLOW.into();
    w.tg.add_file(&msg.file_ids[0], TINY_PNG.to_vec());
    w.api.add(&msg).await;
    push(&w.names, &msg).await;
}

/// The photos sent to the test user so far (bytes).
fn photos(w: &World) -> Vec<Vec<u8>> {
    w.tg.calls_of("sendPhoto")
        .iter()
        .filter(|c| c.chat_id() == Some(USER))
        .filter_map(|c| c.file("photo").map(|f| f.bytes.clone()))
        .collect()
}

/// Waits until the genuine server runs a prompt (its `GET /queue`).
async fn wait_running(url: &str) {
    let end = Instant::now() + WAIT;
    loop {
        let (_, _, text) = genuine_wire::request(url, "GET", "/queue", None).await;
        let q: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if q["queue_running"].as_array().is_some_and(|r| !r.is_empty()) {
            return;
        }
        assert!(Instant::now() < end, "no prompt ran on ComfyUI: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The job's photo arrived exactly once as the CPU workflow's 512×512 image.
async fn delivered_once(w: &World, before: usize) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = photos(w);
    assert_eq!(all.len(), before + 1, "exactly one more photo");
    let img = image::load_from_memory(&all[before]).expect("the photo decodes");
    assert_eq!(
        (img.width(), img.height()),
        (512, 512),
        "the genuine server's output"
    );
}

async fn a_killed_host_is_taken_over(w: &World, comfy: &GenuineComfy, host: &mut Host) {
    let before = photos(w).len();
    submit_cpu(w, "genuine-kill").await;
    wait_running(&comfy.url()).await;
    host.0.kill().expect("kill -9 the host");
    let _ = host.0.wait();
    *host = Host(w.spawn_child_with("host-c", &cpu_env()));
    let st = w.api.wait_final("genuine-kill", WAIT).await;
    assert_eq!(st.status, "succeeded", "{st:?}");
    assert_eq!(st.refunds, 0, "charged once, never refunded: {st:?}");
    delivered_once(w, before).await;
    assert_eq!(w.api.ledger_mismatch().await, 0, "the ledger is exact");
}

async fn a_comfy_restart_does_not_burn_the_job(w: &World, comfy: &mut GenuineComfy) {
    let before = photos(w).len();
    submit_cpu(w, "genuine-restart").await;
    wait_running(&comfy.url()).await;
    comfy.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    comfy.restart().await;
    let st = w.api.wait_final("genuine-restart", WAIT).await;
    assert_eq!(
        st.status, "succeeded",
        "a ComfyUI restart must not fail the job: {st:?}"
    );
    assert_eq!(st.refunds, 0, "{st:?}");
    delivered_once(w, before).await;
}
