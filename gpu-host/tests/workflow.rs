//! The workflow templates in `workflows/` load, and the builder sets only what a job owns.

use std::path::PathBuf;

use gpu_host::workflow::{JobInputs, Template, WorkflowError, Workflows};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows")
}

/// The templates shipped in `workflows/`: every `<name>.roles.json`, sorted.
fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("workflows/")
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            file.strip_suffix(".roles.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_template_loads_and_the_override_applies() {
    let all = Workflows::load_dir(&dir(), None).expect("load");
    let mut names = all.names();
    names.sort();
    assert_eq!(names, shipped(), "every roles file is a loaded template");
    for built_in in ["model_free", "qwen_edit_2511"] {
        assert!(names.contains(&built_in), "{built_in} ships");
    }
    let forced = Workflows::load_dir(&dir(), Some("model_free")).expect("load");
    assert_eq!(
        forced.get("qwen_edit_2511").expect("get").name(),
        "model_free"
    );
    assert!(matches!(
        Workflows::load_dir(&dir(), Some("nope")),
        Err(WorkflowError::UnknownWorkflow(_))
    ));
}

#[test]
fn qwen_graph_gets_images_prompt_seed_prefix_and_drops_unused_slots() {
    let t = Template::load(&dir(), "qwen_edit_2511").expect("load");
    let images = vec!["a.png".to_owned()];
    let job = JobInputs {
        images: &images,
        prompt: "make it blue",
        seed: 42,
        output_prefix: "qwen_edit/j1",
    };
    let g = t.build(&job).expect("build");
    let by_title = |title: &str| {
        g.as_object()
            .and_then(|m| m.values().find(|n| n["_meta"]["title"] == title))
            .cloned()
    };
    assert_eq!(
        by_title("Input Image 1").expect("img")["inputs"]["image"],
        "a.png"
    );
    assert!(by_title("Input Image 2").is_none() && by_title("Input Image 3").is_none());
    let pos = by_title("Positive Prompt").expect("pos");
    assert_eq!(pos["inputs"]["prompt"], "make it blue");
    assert!(
        pos["inputs"].get("image2").is_none(),
        "links to removed slots are dropped"
    );
    assert_eq!(by_title("KSampler").expect("ks")["inputs"]["seed"], 42);
    assert_eq!(
        by_title("Save Image").expect("save")["inputs"]["filename_prefix"],
        "qwen_edit/j1"
    );
    assert_eq!(
        by_title("Load Diffusion Model").expect("unet")["inputs"]["unet_name"],
        "qwen_image_edit_2511_fp8mixed.safetensors"
    );
    let four = vec![
        "a".to_owned(),
        "b".to_owned(),
        "c".to_owned(),
        "d".to_owned(),
    ];
    let too_many = JobInputs {
        images: &four,
        ..job
    };
    assert!(matches!(
        t.build(&too_many),
        Err(WorkflowError::ImageCount(..))
    ));
}

/// A new workflow is its graph and its roles file: the host runs it for a job naming it, and
/// refuses a job naming one it does not have.
#[test]
fn a_new_workflow_is_two_files_and_an_unknown_one_is_refused() {
    let tmp = tempfile::tempdir().expect("dir");
    for (from, to) in [
        ("model_free.json", "my_flow.json"),
        ("model_free.roles.json", "my_flow.roles.json"),
        ("qwen_edit_2511.json", "qwen_edit_2511.json"),
        ("qwen_edit_2511.roles.json", "qwen_edit_2511.roles.json"),
    ] {
        std::fs::copy(dir().join(from), tmp.path().join(to)).expect("copy");
    }
    let all = Workflows::load_dir(tmp.path(), None).expect("load");
    assert_eq!(all.get("my_flow").expect("the new one").name(), "my_flow");
    assert_eq!(
        all.describe(),
        "my_flow,qwen_edit_2511",
        "the host reports it"
    );
    assert!(matches!(
        all.get("no_such_flow"),
        Err(WorkflowError::UnknownWorkflow(n)) if n == "no_such_flow"
    ));
}

#[test]
fn an_unknown_title_fails_at_load_time() {
    let tmp = std::env::temp_dir().join(format!("wf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&tmp).expect("mkdir");
    std::fs::copy(dir().join("model_free.json"), tmp.join("x.json")).expect("copy");
    std::fs::write(
        tmp.join("x.roles.json"),
        r#"{"images":["Input Image 1"],"prompt":"Prompt","seed":null,"output":"Save Image"}"#,
    )
    .expect("write");
    let err = Template::load(&tmp, "x");
    assert!(matches!(err, Err(WorkflowError::UnknownTitle(_, t)) if t == "Prompt"));
    let _ = std::fs::remove_dir_all(tmp);
}

/// Every node of both graphs matches the recorded `GET /object_info/<Node>` of a real
/// ComfyUI 0.33: known class, no unknown input, every required input set, combo values in
/// their lists where the list is not a model folder (`tests/fixtures/comfyui-wire/object_info/`).
#[test]
fn graphs_match_the_recorded_node_specs() {
    let info_dir = dir().join("../tests/fixtures/comfyui-wire/object_info");
    assert!(
        info_dir.is_dir(),
        "the recordings are part of the repository"
    );
    for name in shipped() {
        let name = name.as_str();
        let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("read");
        let graph: serde_json::Value = serde_json::from_str(&text).expect("json");
        for (id, node) in graph.as_object().expect("nodes") {
            let class = node["class_type"].as_str().expect("class");
            let spec_text = std::fs::read_to_string(info_dir.join(format!("{class}.json")))
                .unwrap_or_else(|_| panic!("{name}#{id}: no recorded spec for {class}"));
            let spec: serde_json::Value = serde_json::from_str(&spec_text).expect("spec");
            let spec = &spec["response"]["json"][class]["input"];
            check_node(name, id, node, spec);
        }
    }
}

fn check_node(name: &str, id: &str, node: &serde_json::Value, spec: &serde_json::Value) {
    let inputs = node["inputs"].as_object().expect("inputs");
    let required = spec["required"].as_object().cloned().unwrap_or_default();
    let optional = spec["optional"].as_object().cloned().unwrap_or_default();
    for key in required.keys() {
        assert!(
            inputs.contains_key(key),
            "{name}#{id}: required input {key} missing"
        );
    }
    for (key, value) in inputs {
        let def = required.get(key).or_else(|| optional.get(key));
        let def = def.unwrap_or_else(|| panic!("{name}#{id}: unknown input {key}"));
        let options = def[0].as_array().or_else(|| def[1]["options"].as_array());
        let (Some(options), Some(v)) = (options, value.as_str()) else {
            continue;
        };
        let models = key.ends_with("_name") || key == "image";
        if !models && !options.is_empty() {
            let listed = options.iter().any(|o| o == v || o["key"] == v);
            assert!(listed, "{name}#{id}: {key} = {v:?} not in {options:?}");
        }
    }
}
