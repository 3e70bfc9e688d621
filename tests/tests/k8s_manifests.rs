//! `deploy/kubernetes/`: every manifest that `kustomization.yaml` lists is checked against
//! its schema, kept in `deploy/kubernetes/schemas/` (the built-in kinds against the
//! Kubernetes 1.33 "strict" JSON schemas of the PyPI package kubernetes-validate, the
//! SpinApp against a schema written from spin-operator's CRD), and against what no schema
//! knows: the SpinApp's variables against `spin.toml`, the runtime config against the
//! stores the components use, the gpu-host Deployment against gpu-host's own settings.
//! Each check is also run on broken copies of the manifests, which it must refuse.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn k8s_dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every document of a YAML stream, as JSON.
fn yaml_docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn yaml_one(path: &Path) -> Value {
    let mut docs = yaml_docs(&read(path));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

fn kustomization() -> Value {
    yaml_one(&k8s_dir().join("kustomization.yaml"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One manifest: the file it is in and the document.
#[derive(Clone)]
struct Doc {
    file: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("?")
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("?")
    }
    fn label(&self) -> String {
        format!("{}: {}/{}", self.file, self.kind(), self.name())
    }
}

/// The documents of every file under `resources:` of kustomization.yaml.
fn manifests() -> Vec<Doc> {
    strings(&kustomization()["resources"])
        .into_iter()
        .flat_map(|file| {
            yaml_docs(&read(&k8s_dir().join(&file)))
                .into_iter()
                .map(move |value| Doc {
                    file: file.clone(),
                    value,
                })
        })
        .collect()
}

fn find<'a>(docs: &'a [Doc], kind: &str, name: &str) -> &'a Value {
    &docs
        .iter()
        .find(|d| d.kind() == kind && d.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in the manifests"))
        .value
}

fn find_mut<'a>(docs: &'a mut [Doc], kind: &str, name: &str) -> &'a mut Value {
    &mut docs
        .iter_mut()
        .find(|d| d.kind() == kind && d.name() == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in the manifests"))
        .value
}

// ------------------------------------------------------------------------------ schemas

/// The two schema files: Kubernetes' built-in kinds and the SpinApp.
struct Schemas {
    k8s: Value,
    spinapp: Value,
}

impl Schemas {
    fn load() -> Self {
        let dir = k8s_dir().join("schemas");
        let k8s: Value = serde_json::from_str(&read(&dir.join("kubernetes-v1.33-strict.json")))
            .expect("kubernetes-v1.33-strict.json is JSON");
        let spinapp = yaml_one(&dir.join("spinapp-v1alpha1.schema.yaml"));
        Self { k8s, spinapp }
    }

    /// The schema for `doc`'s apiVersion and kind, as one self-contained document (the
    /// Kubernetes definitions under `$defs`), or `None` for a kind without a schema here.
    fn schema_for(&self, doc: &Value) -> Option<Value> {
        let api = doc["apiVersion"].as_str()?;
        let kind = doc["kind"].as_str()?;
        let k8s_defs = self.k8s["$defs"].as_object()?;
        let mut schema = if (api, kind) == ("core.spinkube.dev/v1alpha1", "SpinApp") {
            self.spinapp.clone()
        } else {
            let mut s = self.k8s["kinds"].get(format!("{api}/{kind}"))?.clone();
            s["$schema"] = self.k8s["$schema"].clone();
            s
        };
        let defs = schema
            .as_object_mut()?
            .entry("$defs")
            .or_insert_with(|| json!({}));
        let defs = defs.as_object_mut()?;
        for (name, def) in k8s_defs {
            defs.entry(name.clone()).or_insert_with(|| def.clone());
        }
        Some(schema)
    }

    /// What is wrong with `doc`, one line per error (empty: valid).
    fn problems(&self, doc: &Doc) -> Vec<String> {
        let Some(schema) = self.schema_for(&doc.value) else {
            return vec![format!(
                "{}: no schema for apiVersion {} kind {}",
                doc.label(),
                doc.value["apiVersion"],
                doc.value["kind"]
            )];
        };
        let validator = match jsonschema::draft202012::new(&schema) {
            Ok(v) => v,
            Err(e) => return vec![format!("{}: schema does not compile: {e}", doc.label())],
        };
        validator
            .iter_errors(&doc.value)
            .map(|e| format!("{}: {e} (at {})", doc.label(), e.instance_path()))
            .collect()
    }
}

#[test]
fn every_manifest_matches_its_schema() {
    let schemas = Schemas::load();
    let docs = manifests();
    let kinds: BTreeSet<&str> = docs.iter().map(Doc::kind).collect();
    for kind in [
        "SpinApp",
        "Deployment",
        "Service",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Namespace",
        "NetworkPolicy",
    ] {
        assert!(kinds.contains(kind), "the manifests have a {kind}");
    }
    let problems: Vec<String> = docs.iter().flat_map(|d| schemas.problems(d)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A broken copy of the manifests: `edit` changes the document `kind`/`name`.
fn broken(kind: &str, name: &str, edit: impl FnOnce(&mut Value)) -> Vec<Doc> {
    let mut docs = manifests();
    edit(find_mut(&mut docs, kind, name));
    docs
}

/// A broken copy must be refused, and for the reason the case is about.
fn refused(what: &str, expected: &str, problems: &[String]) {
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "{what}: expected a problem containing {expected:?}, got {problems:?}"
    );
}

#[test]
fn schemas_refuse_broken_manifests() {
    let schemas = Schemas::load();
    let cases: Vec<(&str, &str, Vec<Doc>)> = vec![
        (
            "SpinApp without executor",
            "\"executor\" is a required property",
            broken("SpinApp", "qwen-edit-bot", |v| {
                v["spec"].as_object_mut().expect("spec").remove("executor");
            }),
        ),
        (
            "SpinApp with a misspelt field",
            "'loadFromSecrets' was unexpected",
            broken("SpinApp", "qwen-edit-bot", |v| {
                let secret = v["spec"]["runtimeConfig"]["loadFromSecret"].clone();
                v["spec"]["runtimeConfig"] = json!({ "loadFromSecrets": secret });
            }),
        ),
        (
            "SpinApp replicas as a string",
            "(at /spec/replicas)",
            broken("SpinApp", "qwen-edit-bot", |v| {
                v["spec"]["replicas"] = json!("two");
            }),
        ),
        (
            "SpinApp variable without a name",
            "\"name\" is a required property",
            broken("SpinApp", "qwen-edit-bot", |v| {
                v["spec"]["variables"][0]
                    .as_object_mut()
                    .expect("variable")
                    .remove("name");
            }),
        ),
        (
            "Deployment with a misspelt container field",
            "'livenesProbe' was unexpected",
            broken("Deployment", "gpu-host", |v| {
                let c = &mut v["spec"]["template"]["spec"]["containers"][0];
                let probe = c["livenessProbe"].clone();
                c["livenesProbe"] = probe;
            }),
        ),
        (
            "Deployment replicas as a string",
            "(at /spec/replicas)",
            broken("Deployment", "gpu-host", |v| {
                v["spec"]["replicas"] = json!("2");
            }),
        ),
        (
            "Deployment selector as a string",
            "(at /spec/selector)",
            broken("Deployment", "redis", |v| {
                v["spec"]["selector"] = json!("app.kubernetes.io/name=redis");
            }),
        ),
        (
            "Service port as a word",
            "(at /spec/ports/0/port)",
            broken("Service", "redis", |v| {
                v["spec"]["ports"][0]["port"] = json!("six-three-seven-nine");
            }),
        ),
        (
            "ConfigMap value that is not a string",
            "(at /data/SHUTDOWN_GRACE_SECS)",
            broken("ConfigMap", "gpu-host", |v| {
                v["data"]["SHUTDOWN_GRACE_SECS"] = json!(90);
            }),
        ),
        (
            "unknown apiVersion",
            "no schema for apiVersion",
            broken("Deployment", "redis", |v| {
                v["apiVersion"] = json!("apps/v1beta9");
            }),
        ),
    ];
    for (what, expected, docs) in cases {
        let problems: Vec<String> = docs.iter().flat_map(|d| schemas.problems(d)).collect();
        refused(what, expected, &problems);
    }
}

// ------------------------------------------------------------------------------ spin.toml

/// A variable of spin.toml's `[variables]`.
struct Decl {
    required: bool,
    secret: bool,
    default: Option<String>,
}

fn spin_toml() -> toml::Value {
    toml::from_str(&read(&root().join("spin.toml"))).expect("spin.toml is TOML")
}

fn spin_variables() -> BTreeMap<String, Decl> {
    spin_toml()["variables"]
        .as_table()
        .expect("[variables]")
        .iter()
        .map(|(name, d)| {
            let flag = |k: &str| d.get(k).and_then(toml::Value::as_bool).unwrap_or(false);
            let decl = Decl {
                required: flag("required"),
                secret: flag("secret"),
                default: d
                    .get("default")
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned),
            };
            (name.clone(), decl)
        })
        .collect()
}

/// `KEY=VALUE` lines of an env file (comments and blank lines skipped).
fn env_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect()
}

/// The Secrets kustomization.yaml generates, with their keys, read from the committed
/// `<source>.example` of every source file.
fn generated_secrets() -> BTreeMap<String, BTreeSet<String>> {
    let k = kustomization();
    k["secretGenerator"]
        .as_array()
        .expect("secretGenerator")
        .iter()
        .map(|g| {
            let mut keys = BTreeSet::new();
            for env in strings(&g["envs"]) {
                keys.extend(env_keys(&read(&k8s_dir().join(format!("{env}.example")))));
            }
            for file in strings(&g["files"]) {
                let (key, source) = file.split_once('=').unwrap_or((&file, &file));
                let example = k8s_dir().join(format!("{source}.example"));
                assert!(example.exists(), "{} is committed", example.display());
                keys.insert(key.to_owned());
            }
            (g["name"].as_str().expect("generator name").to_owned(), keys)
        })
        .collect()
}

/// `(secret, key)` of a `secretKeyRef`, if `value_from` is one.
fn secret_ref(value_from: &Value) -> Option<(String, String)> {
    let r = value_from.get("secretKeyRef")?;
    Some((
        r["name"].as_str()?.to_owned(),
        r["key"].as_str()?.to_owned(),
    ))
}

/// What is wrong with the SpinApp's wiring to spin.toml and the Secrets (empty: right).
fn edge_problems(
    app: &Value,
    decls: &BTreeMap<String, Decl>,
    secrets: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    let spec = &app["spec"];
    if spec["executor"] != "containerd-shim-spin" {
        out.push(format!("executor is {}", spec["executor"]));
    }
    let mut bound: BTreeMap<String, &Value> = BTreeMap::new();
    for v in spec["variables"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default().to_owned();
        if !decls.contains_key(&name) {
            out.push(format!("variable {name:?} is not declared in spin.toml"));
        }
        if bound.insert(name.clone(), v).is_some() {
            out.push(format!("variable {name} is bound twice"));
        }
        if let Some((secret, key)) = v.get("valueFrom").and_then(secret_ref)
            && !secrets.get(&secret).is_some_and(|keys| keys.contains(&key))
        {
            out.push(format!("variable {name}: Secret {secret} has no key {key}"));
        }
    }
    for (name, decl) in decls {
        let binding = bound.get(name);
        if decl.secret {
            match binding {
                Some(v)
                    if v.get("value").is_none()
                        && v.get("valueFrom").and_then(secret_ref).is_some() => {}
                _ => out.push(format!(
                    "secret variable {name} must come from a Secret (valueFrom.secretKeyRef)"
                )),
            }
        }
        if decl.required && decl.default.is_none() && binding.is_none() {
            out.push(format!("required variable {name} is not bound"));
        }
    }
    let rc = spec["runtimeConfig"]["loadFromSecret"]
        .as_str()
        .unwrap_or_default();
    if !secrets
        .get(rc)
        .is_some_and(|keys| keys.contains("runtime-config.toml"))
    {
        out.push(format!(
            "runtimeConfig.loadFromSecret {rc:?} is not a generated Secret with key runtime-config.toml"
        ));
    }
    out
}

#[test]
fn spinapp_variables_match_spin_toml() {
    let docs = manifests();
    let decls = spin_variables();
    assert!(decls.values().any(|d| d.secret), "spin.toml has secrets");
    let problems = edge_problems(
        find(&docs, "SpinApp", "qwen-edit-bot"),
        &decls,
        &generated_secrets(),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn spinapp_checks_refuse_drift() {
    let decls = spin_variables();
    let secrets = generated_secrets();
    let vars = |v: &mut Value| -> Vec<Value> {
        v["spec"]["variables"]
            .as_array()
            .expect("variables")
            .clone()
    };
    let cases: Vec<(&str, &str, Vec<Doc>)> = vec![
        (
            "a variable spin.toml does not declare",
            "\"redis_uri\" is not declared in spin.toml",
            broken("SpinApp", "qwen-edit-bot", |v| {
                let mut all = vars(v);
                all.push(json!({ "name": "redis_uri", "value": "redis://redis:6379" }));
                v["spec"]["variables"] = json!(all);
            }),
        ),
        (
            "a secret as a literal value",
            "api_token must come from a Secret",
            broken("SpinApp", "qwen-edit-bot", |v| {
                let all: Vec<Value> = vars(v)
                    .into_iter()
                    .map(|x| {
                        if x["name"] == "api_token" {
                            json!({ "name": "api_token", "value": "change-me" })
                        } else {
                            x
                        }
                    })
                    .collect();
                v["spec"]["variables"] = json!(all);
            }),
        ),
        (
            "a required secret left out",
            "required variable telegram_webhook_secret is not bound",
            broken("SpinApp", "qwen-edit-bot", |v| {
                let all: Vec<Value> = vars(v)
                    .into_iter()
                    .filter(|x| x["name"] != "telegram_webhook_secret")
                    .collect();
                v["spec"]["variables"] = json!(all);
            }),
        ),
        (
            "a key the Secret does not have",
            "has no key yookassa_key",
            broken("SpinApp", "qwen-edit-bot", |v| {
                let all: Vec<Value> = vars(v)
                    .into_iter()
                    .map(|mut x| {
                        if x["name"] == "yookassa_secret_key" {
                            x["valueFrom"]["secretKeyRef"]["key"] = json!("yookassa_key");
                        }
                        x
                    })
                    .collect();
                v["spec"]["variables"] = json!(all);
            }),
        ),
        (
            "a runtime config Secret that is not generated",
            "runtimeConfig.loadFromSecret",
            broken("SpinApp", "qwen-edit-bot", |v| {
                v["spec"]["runtimeConfig"]["loadFromSecret"] = json!("runtime-config");
            }),
        ),
    ];
    for (what, expected, docs) in cases {
        let problems = edge_problems(find(&docs, "SpinApp", "qwen-edit-bot"), &decls, &secrets);
        refused(what, expected, &problems);
    }
}

#[test]
fn runtime_config_puts_sqlite_on_libsql_and_key_value_on_redis() {
    let text = read(&k8s_dir().join("secrets/runtime-config.toml.example"));
    let rc: toml::Value = toml::from_str(&text).expect("runtime config is TOML");
    let reference: toml::Value =
        toml::from_str(&read(&root().join("runtime-config/libsql.toml"))).expect("libsql.toml");
    for table in ["sqlite_database", "key_value_store"] {
        assert_eq!(
            rc[table]["default"]["type"], reference[table]["default"]["type"],
            "{table}.default has the type of runtime-config/libsql.toml"
        );
    }
    let db = &rc["sqlite_database"]["default"];
    assert_eq!(db["type"].as_str(), Some("libsql"));
    for field in ["url", "token"] {
        assert!(
            db.get(field)
                .and_then(toml::Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            "sqlite_database.default.{field}"
        );
    }
    let kv = &rc["key_value_store"]["default"];
    assert_eq!(kv["type"].as_str(), Some("redis"));
    let docs = manifests();
    let edge_redis = spinapp_value(find(&docs, "SpinApp", "qwen-edit-bot"), "redis_url");
    assert_eq!(
        kv["url"].as_str(),
        edge_redis.as_deref(),
        "key-value on the Redis of the job stream"
    );
    let service = find(&docs, "Service", "redis");
    assert_eq!(service["spec"]["ports"][0]["port"], 6379);
    // Every store a component names is defined.
    for (name, c) in spin_toml()["component"].as_table().expect("components") {
        for (field, table) in [
            ("sqlite_databases", "sqlite_database"),
            ("key_value_stores", "key_value_store"),
        ] {
            for label in c
                .get(field)
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
            {
                let label = label.as_str().expect("store label");
                assert!(
                    rc.get(table).and_then(|t| t.get(label)).is_some(),
                    "component {name} uses {table} {label:?}, which the runtime config lacks"
                );
            }
        }
    }
}

/// A literal variable of the SpinApp, or spin.toml's default.
fn spinapp_value(app: &Value, name: &str) -> Option<String> {
    app["spec"]["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == name)
        .and_then(|v| v["value"].as_str().map(str::to_owned))
        .or_else(|| spin_variables().remove(name).and_then(|d| d.default))
}

// ------------------------------------------------------------------------------ gpu-host

/// The environment variables gpu-host reads: clap's `env = "…"` in config.rs, the
/// `std::env::var("…")` in main.rs, and RUST_LOG when main.rs reads the default filter.
fn gpu_host_env_names() -> BTreeSet<String> {
    let config = read(&root().join("gpu-host/src/config.rs"));
    let main = read(&root().join("gpu-host/src/main.rs"));
    let quoted_after = |text: &str, marker: &str| -> Vec<String> {
        text.split(marker)
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_owned)
            .collect()
    };
    let mut names: BTreeSet<String> = quoted_after(&config, "env = \"").into_iter().collect();
    names.extend(quoted_after(&main, "std::env::var(\""));
    if main.contains("EnvFilter::try_from_default_env") {
        names.insert("RUST_LOG".to_owned());
    }
    assert!(names.contains("SHUTDOWN_GRACE_SECS") && names.contains("GPU_LOCK_PATH"));
    names
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// What is wrong with the gpu-host Deployment's wiring (empty: right).
fn gpu_problems(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    let known = gpu_host_env_names();
    let secrets = generated_secrets();
    let deploy = find(docs, "Deployment", "gpu-host");
    let pod = &deploy["spec"]["template"];
    let spec = &pod["spec"];
    let containers: Vec<&Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let all: Vec<&Value> = containers
        .iter()
        .copied()
        .chain(spec["initContainers"].as_array().into_iter().flatten())
        .collect();

    // One GPU per pod, on GPU nodes; never two pods on one GPU during a rollout.
    let gpus: u64 = all
        .iter()
        .filter_map(|c| as_u64(&c["resources"]["limits"]["nvidia.com/gpu"]))
        .sum();
    if gpus != 1 {
        out.push(format!("the pod asks for {gpus} GPUs, not 1"));
    }
    if spec["nodeSelector"]
        .as_object()
        .is_none_or(|m| m.is_empty())
    {
        out.push("no nodeSelector for GPU nodes".into());
    }
    if spec["tolerations"].as_array().is_none_or(|t| t.is_empty()) {
        out.push("no toleration for GPU nodes".into());
    }
    let strategy = &deploy["spec"]["strategy"];
    let surge = &strategy["rollingUpdate"]["maxSurge"];
    let no_surge = strategy["type"] == "Recreate"
        || (strategy["type"] == "RollingUpdate"
            && (surge.as_u64() == Some(0) || surge == "0" || surge == "0%"));
    if !no_surge {
        out.push(format!("strategy {strategy} may run more pods than GPUs"));
    }

    let Some(host) = containers.iter().find(|c| c["name"] == "gpu-host") else {
        out.push("no gpu-host container".into());
        return out;
    };
    // The environment: the ConfigMaps it loads and its own env, gpu-host's names only.
    let mut env: BTreeMap<String, Value> = BTreeMap::new();
    for from in host["envFrom"].as_array().into_iter().flatten() {
        let name = from["configMapRef"]["name"].as_str().unwrap_or_default();
        let cm = docs
            .iter()
            .find(|d| d.kind() == "ConfigMap" && d.name() == name);
        match cm.and_then(|d| d.value["data"].as_object()) {
            Some(data) => env.extend(data.iter().map(|(k, v)| (k.clone(), v.clone()))),
            None => out.push(format!(
                "envFrom ConfigMap {name:?} is not in the manifests"
            )),
        }
    }
    for e in host["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or_default().to_owned();
        if let Some((secret, key)) = e.get("valueFrom").and_then(secret_ref)
            && !secrets.get(&secret).is_some_and(|keys| keys.contains(&key))
        {
            out.push(format!("env {name}: Secret {secret} has no key {key}"));
        }
        env.insert(name, e.clone());
    }
    for name in env.keys() {
        if !known.contains(name) {
            out.push(format!("env {name} is not a gpu-host setting"));
        }
    }
    // The secrets are the edge's own keys.
    for (var, key) in [
        ("TELEGRAM_BOT_TOKEN", "telegram_bot_token"),
        ("GPU_EVENT_SECRET", "gpu_event_secret"),
    ] {
        let r = env
            .get(var)
            .and_then(|e| e.get("valueFrom"))
            .and_then(secret_ref);
        if r.as_ref().map(|(_, k)| k.as_str()) != Some(key) {
            out.push(format!("{var} must come from the edge's Secret key {key}"));
        }
    }
    let text = |name: &str| env.get(name).and_then(Value::as_str).map(str::to_owned);

    // Same queue and the edge's Service.
    let app = find(docs, "SpinApp", "qwen-edit-bot");
    for (var, edge) in [("REDIS_URL", "redis_url"), ("JOBS_STREAM", "jobs_stream")] {
        if text(var) != spinapp_value(app, edge) {
            out.push(format!("{var} differs from the edge's {edge}"));
        }
    }
    let edge_service = format!(
        "http://{}",
        app["metadata"]["name"].as_str().unwrap_or_default()
    );
    if !text("API_BASE_URL").is_some_and(|u| u == edge_service || u == format!("{edge_service}:80"))
    {
        out.push(format!("API_BASE_URL is not {edge_service}"));
    }

    // Shutdown: the pod's grace period covers gpu-host's, with a margin.
    let grace = text("SHUTDOWN_GRACE_SECS").and_then(|s| s.parse::<f64>().ok());
    let period = spec["terminationGracePeriodSeconds"].as_f64();
    match (grace, period) {
        (Some(g), Some(p)) if p >= g + 10.0 => {}
        _ => out.push(format!(
            "terminationGracePeriodSeconds {period:?} must exceed SHUTDOWN_GRACE_SECS {grace:?} by 10 s or more"
        )),
    }

    // Metrics: reachable on the pod's address, probed and scraped on that port.
    let addr = text("METRICS_ADDR").unwrap_or_default();
    let (bind, port) = addr.rsplit_once(':').unwrap_or_default();
    if !matches!(bind, "0.0.0.0" | "[::]") {
        out.push(format!(
            "METRICS_ADDR {addr:?} is not reachable by the kubelet and Prometheus"
        ));
    }
    let port: u64 = port.parse().unwrap_or_default();
    let port_name = host["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["containerPort"].as_u64() == Some(port))
        .and_then(|p| p["name"].as_str());
    if port_name.is_none() {
        out.push(format!("the container does not declare port {port}"));
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        let get = &host[probe]["httpGet"];
        let on_port = get["port"].as_u64() == Some(port) || get["port"].as_str() == port_name;
        if get["path"] != "/healthz" || !on_port {
            out.push(format!("{probe} is not GET /healthz on port {port}"));
        }
    }
    let notes = &pod["metadata"]["annotations"];
    if notes["prometheus.io/scrape"] != "true" || as_u64(&notes["prometheus.io/port"]) != Some(port)
    {
        out.push(format!("the pod is not annotated for scraping port {port}"));
    }

    // The GPU lock: under a node-local hostPath directory.
    let host_paths: BTreeSet<&str> = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get("hostPath").is_some())
        .filter_map(|v| v["name"].as_str())
        .collect();
    let lock_dirs: Vec<&str> = host["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["name"].as_str().is_some_and(|n| host_paths.contains(n)))
        .filter_map(|m| m["mountPath"].as_str())
        .collect();
    let script = strings(&host["args"]).join("\n");
    let lock_set = lock_dirs.iter().any(|dir| {
        script.contains(&format!("GPU_LOCK_PATH=\"{dir}/"))
            || text("GPU_LOCK_PATH").is_some_and(|p| p.starts_with(&format!("{dir}/")))
    });
    if !lock_set {
        out.push(format!(
            "GPU_LOCK_PATH is not under a hostPath mount of the gpu-host container ({lock_dirs:?})"
        ));
    }
    out
}

#[test]
fn gpu_host_deployment_matches_gpu_host() {
    let problems = gpu_problems(&manifests());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn gpu_host_checks_refuse_drift() {
    fn container(v: &mut Value) -> &mut Value {
        let list = v["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .expect("containers");
        list.iter_mut()
            .find(|c| c["name"] == "gpu-host")
            .expect("gpu-host container")
    }
    let cases: Vec<(&str, &str, Vec<Doc>)> = vec![
        (
            "a grace period equal to SHUTDOWN_GRACE_SECS",
            "terminationGracePeriodSeconds",
            broken("ConfigMap", "gpu-host", |v| {
                v["data"]["SHUTDOWN_GRACE_SECS"] = json!("105");
            }),
        ),
        (
            "an environment name gpu-host does not read",
            "env REDIS_URI is not a gpu-host setting",
            broken("ConfigMap", "gpu-host", |v| {
                v["data"]["REDIS_URI"] = json!("redis://redis:6379");
            }),
        ),
        (
            "another Redis than the edge's",
            "REDIS_URL differs from the edge's redis_url",
            broken("ConfigMap", "gpu-host", |v| {
                v["data"]["REDIS_URL"] = json!("redis://other:6379");
            }),
        ),
        (
            "metrics on loopback",
            "is not reachable by the kubelet",
            broken("ConfigMap", "gpu-host", |v| {
                v["data"]["METRICS_ADDR"] = json!("127.0.0.1:9108");
            }),
        ),
        (
            "two GPUs per pod",
            "asks for 2 GPUs",
            broken("Deployment", "gpu-host", |v| {
                v["spec"]["template"]["spec"]["initContainers"][1]["resources"]["limits"]["nvidia.com/gpu"] =
                    json!(2);
            }),
        ),
        (
            "a rollout that surges",
            "may run more pods than GPUs",
            broken("Deployment", "gpu-host", |v| {
                v["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = json!(1);
            }),
        ),
        (
            "no GPU node selector",
            "no nodeSelector",
            broken("Deployment", "gpu-host", |v| {
                v["spec"]["template"]["spec"]
                    .as_object_mut()
                    .expect("pod spec")
                    .remove("nodeSelector");
            }),
        ),
        (
            "liveness on another path",
            "livenessProbe is not GET /healthz",
            broken("Deployment", "gpu-host", |v| {
                container(v)["livenessProbe"]["httpGet"]["path"] = json!("/metrics");
            }),
        ),
        (
            "the lock outside the hostPath volume",
            "GPU_LOCK_PATH is not under a hostPath",
            broken("Deployment", "gpu-host", |v| {
                let c = container(v);
                let script = strings(&c["args"]).join("\n").replace(
                    "GPU_LOCK_PATH=\"/run/qwen-gpu-locks/",
                    "GPU_LOCK_PATH=\"/tmp/",
                );
                c["args"] = json!([script]);
            }),
        ),
        (
            "the event secret from another key",
            "GPU_EVENT_SECRET must come from",
            broken("Deployment", "gpu-host", |v| {
                let c = container(v);
                for e in c["env"].as_array_mut().expect("env") {
                    if e["name"] == "GPU_EVENT_SECRET" {
                        e["valueFrom"]["secretKeyRef"]["key"] = json!("api_token");
                    }
                }
            }),
        ),
    ];
    for (what, expected, docs) in cases {
        refused(what, expected, &gpu_problems(&docs));
    }
}

// ------------------------------------------------------------------------------ kustomize

#[test]
fn kustomization_lists_every_manifest_and_ships_examples_only() {
    let k = kustomization();
    assert!(
        k["namespace"].as_str().is_some(),
        "kustomization sets a namespace"
    );
    let listed: BTreeSet<String> = strings(&k["resources"]).into_iter().collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(k8s_dir())
        .expect("deploy/kubernetes")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert_eq!(listed, on_disk, "resources: lists every manifest file");
    // The generators' sources are filled in by the deployer; the repository has examples.
    let secrets = generated_secrets();
    assert!(secrets.contains_key("qwen-edge") && secrets.contains_key("qwen-edge-runtime-config"));
    let ignore = read(&root().join(".gitignore"));
    assert!(
        ignore.contains("deploy/kubernetes/secrets/*"),
        ".gitignore keeps the filled-in secrets out of git"
    );
}

// ------------------------------------------------------------------ ComfyUI's sitecustomize

/// What is wrong with the ComfyUI sidecar's start-up tweak (empty: right): `PYTHONPATH`
/// starts with a directory mounted from a ConfigMap whose `sitecustomize.py` is exactly
/// `deploy/comfyui/sitecustomize.py`.
fn sitecustomize_problems(docs: &[Doc]) -> Vec<String> {
    let spec = &find(docs, "Deployment", "gpu-host")["spec"]["template"]["spec"];
    let Some(comfy) = spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "comfyui")
    else {
        return vec!["no comfyui sidecar".into()];
    };
    let path = comfy["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "PYTHONPATH")
        .and_then(|e| e["value"].as_str())
        .and_then(|v| v.split(':').next())
        .unwrap_or_default();
    if path.is_empty() {
        return vec!["the comfyui sidecar has no PYTHONPATH".into()];
    }
    let mount = comfy["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == path);
    let Some(volume) = mount.and_then(|m| m["name"].as_str()) else {
        return vec![format!("nothing is mounted at PYTHONPATH {path}")];
    };
    let config_map = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == volume)
        .and_then(|v| v["configMap"]["name"].as_str());
    let Some(config_map) = config_map else {
        return vec![format!("volume {volume} is not a ConfigMap")];
    };
    let Some(doc) = docs
        .iter()
        .find(|d| d.kind() == "ConfigMap" && d.name() == config_map)
    else {
        return vec![format!("no ConfigMap {config_map}")];
    };
    let want = read(&root().join("deploy/comfyui/sitecustomize.py"));
    if doc.value["data"]["sitecustomize.py"].as_str() != Some(want.as_str()) {
        return vec![format!(
            "ConfigMap {config_map}'s sitecustomize.py differs from deploy/comfyui/sitecustomize.py"
        )];
    }
    Vec::new()
}

#[test]
fn comfyui_sidecar_runs_with_the_sitecustomize() {
    let problems = sitecustomize_problems(&manifests());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let edited = broken("ConfigMap", "comfyui-sitecustomize", |v| {
        v["data"]["sitecustomize.py"] = Value::String("import gc\n".into());
    });
    refused(
        "an edited copy",
        "differs from deploy/comfyui/sitecustomize.py",
        &sitecustomize_problems(&edited),
    );
    let unwired = broken("Deployment", "gpu-host", |v| {
        let init = v["spec"]["template"]["spec"]["initContainers"]
            .as_array_mut()
            .expect("initContainers");
        for c in init.iter_mut() {
            if let Some(m) = c.as_object_mut() {
                m.remove("env");
            }
        }
    });
    refused(
        "no PYTHONPATH",
        "no PYTHONPATH",
        &sitecustomize_problems(&unwired),
    );
}
