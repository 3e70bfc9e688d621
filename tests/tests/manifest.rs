//! The Spin CLI cannot be installed here, so this test reads `spin.toml` the way Spin 4 would
//! and fails on what would break `spin build --up`: a component whose `source` is not what its
//! build produces, a variable the code reads that is not declared, colliding routes, a host
//! the code calls that is missing from `allowed_outbound_hosts`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use qwen_core::settings::{VARIABLES, Variable};
use toml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(root().join("spin.toml")).expect("spin.toml exists");
    toml::from_str(&text).expect("spin.toml is valid TOML")
}

/// The variables each component reads, from the code's own lists.
fn reads(component: &str) -> Vec<Variable> {
    match component {
        "api" => VARIABLES
            .iter()
            .chain(qwen_core::payments::settings::VARIABLES)
            .chain(console::settings::VARIABLES)
            .copied()
            .collect(),
        other => extra_reads(other),
    }
}

/// Components other than `api` read the core's variables plus their own list; add each new
/// component here when it lands (the test fails for an unknown component).
fn extra_reads(component: &str) -> Vec<Variable> {
    match component {
        "telegram" => bot::settings::component_variables(),
        "payments" => qwen_core::payments::settings::component_variables(),
        _ => panic!(
            "component {component:?} is in spin.toml but this test does not know what it reads"
        ),
    }
}

fn components(m: &Value) -> BTreeMap<String, Value> {
    m["component"]
        .as_table()
        .expect("[component.*]")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn manifest_version_and_application() {
    let m = manifest();
    assert_eq!(m["spin_manifest_version"].as_integer(), Some(2));
    assert!(m["application"]["name"].as_str().is_some());
}

/// `cargo build -p NAME --target wasm32-wasip2 --profile P` → `target/wasm32-wasip2/P/NAME.wasm`.
fn expected_source(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|i| words.get(i + 1))
            .copied()
    };
    let package = after("-p").expect("build command names its package with -p");
    assert_eq!(after("--target"), Some("wasm32-wasip2"), "{command}");
    let profile = after("--profile").unwrap_or(if words.contains(&"--release") {
        "release"
    } else {
        "debug"
    });
    format!(
        "target/wasm32-wasip2/{profile}/{}.wasm",
        package.replace('-', "_")
    )
}

#[test]
fn every_source_is_what_its_build_produces() {
    for (name, c) in components(&manifest()) {
        let command = c["build"]["command"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no build command"));
        assert_eq!(
            c["source"].as_str(),
            Some(expected_source(command).as_str()),
            "component {name}"
        );
        let package = command
            .split_whitespace()
            .skip_while(|w| *w != "-p")
            .nth(1)
            .unwrap_or_default();
        let cargo =
            find_package(package).unwrap_or_else(|| panic!("no workspace package {package}"));
        let text = std::fs::read_to_string(cargo).expect("Cargo.toml");
        assert!(
            text.contains("cdylib"),
            "{package} must be a cdylib to become a component"
        );
        assert!(text.contains("spin-sdk"), "{package} must use spin-sdk");
    }
}

fn find_package(package: &str) -> Option<PathBuf> {
    let dir = root().join("functions");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .find(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains(&format!("name = \"{package}\"")))
        })
}

#[test]
fn every_variable_the_code_reads_is_declared() {
    let m = manifest();
    let declared = m["variables"].as_table().expect("[variables]");
    for (name, c) in components(&m) {
        let granted = c
            .get("variables")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        for v in reads(&name) {
            let decl = declared
                .get(v.name)
                .unwrap_or_else(|| panic!("[variables] lacks {}", v.name));
            assert_eq!(
                granted.get(v.name).and_then(Value::as_str),
                Some(format!("{{{{ {} }}}}", v.name).as_str()),
                "[component.{name}.variables] must pass {}",
                v.name
            );
            check_declaration(v, decl);
        }
    }
}

fn check_declaration(v: Variable, decl: &Value) {
    let secret = decl.get("secret").and_then(Value::as_bool).unwrap_or(false);
    assert_eq!(secret, v.secret, "{}: secret flag", v.name);
    let default = decl.get("default").and_then(Value::as_str);
    let required = decl
        .get("required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match v.default {
        Some(d) => assert_eq!(default, Some(d), "{}: default must match the code", v.name),
        None => assert!(
            required || default.is_some(),
            "{}: needs a default or required = true",
            v.name
        ),
    }
    assert!(
        !(v.secret && default.is_some_and(|d| !d.is_empty())),
        "{}: a secret has no default",
        v.name
    );
}

#[test]
fn no_variable_literal_in_components_is_undeclared() {
    let m = manifest();
    let declared: BTreeSet<String> = m["variables"]
        .as_table()
        .expect("vars")
        .keys()
        .cloned()
        .collect();
    for file in rust_files(&root().join("functions")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for name in text
            .split("variables::get(\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                declared.contains(name),
                "{} reads undeclared variable {name}",
                file.display()
            );
        }
    }
}

#[test]
fn every_component_gets_the_log_level() {
    let m = manifest();
    assert!(
        m["variables"].get("log_level").is_some(),
        "log_level is declared"
    );
    for (name, c) in components(&m) {
        assert_eq!(
            c.get("variables")
                .and_then(|v| v.get("log_level"))
                .and_then(Value::as_str),
            Some("{{ log_level }}"),
            "component {name} must pass log_level (read by spin_adapters::init_logging)"
        );
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

#[test]
fn routes_do_not_collide_and_cover_the_api() {
    let m = manifest();
    let triggers = m["trigger"]["http"].as_array().expect("[[trigger.http]]");
    let mut seen = BTreeMap::new();
    for t in triggers {
        let route = t["route"].as_str().expect("route").to_owned();
        let component = t["component"].as_str().expect("component").to_owned();
        assert!(
            components(&m).contains_key(&component),
            "trigger for unknown component {component}"
        );
        if let Some(other) = seen.insert(route.clone(), component.clone()) {
            panic!("route {route} is claimed by both {other} and {component}");
        }
    }
    for r in qwen_http::ROUTES {
        let owner = serving_component(&seen, r.path);
        assert_eq!(
            owner.as_deref(),
            Some("api"),
            "{} {} is not routed to api",
            r.method,
            r.path
        );
    }
}

/// The component Spin picks for a path: an exact route, else the longest `/prefix/...`.
fn serving_component(routes: &BTreeMap<String, String>, path: &str) -> Option<String> {
    if let Some(c) = routes.get(path.trim_end_matches('/')) {
        return Some(c.clone());
    }
    routes
        .iter()
        .filter_map(|(r, c)| r.strip_suffix("/...").map(|prefix| (prefix, c)))
        .filter(|(prefix, _)| path == *prefix || path.starts_with(&format!("{prefix}/")))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, c)| c.clone())
}

#[test]
fn hosts_the_code_calls_are_allowed() {
    for (name, c) in components(&manifest()) {
        let allowed: Vec<&str> = c
            .get("allowed_outbound_hosts")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for v in reads(&name).iter().filter(|v| v.name.ends_with("_url")) {
            let template = format!("{{{{ {} }}}}", v.name);
            assert!(
                allowed.contains(&template.as_str()),
                "{name} calls {} but allows only {allowed:?}",
                v.name
            );
        }
        let sqlite = c
            .get("sqlite_databases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert!(
            sqlite.iter().any(|d| d.as_str() == Some("default")),
            "{name} needs the default database"
        );
    }
}

#[test]
fn spin_sdk_is_pinned_to_6_0_0() {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock");
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains("name = \"spin-sdk\""))
        .filter_map(|p| p.lines().find(|l| l.starts_with("version")))
        .collect();
    assert_eq!(
        versions,
        vec!["version = \"6.0.0\""],
        "Spin 4.0 loads only spin-sdk 6.0.0"
    );
}
