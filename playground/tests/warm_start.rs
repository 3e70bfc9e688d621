//! `cargo run -p playground` builds nothing that `cargo test --workspace` built: every crate
//! it needs, and every crate of the gpu-host it builds (`cargo build -p playground -p
//! gpu-host --bin gpu-host`), resolves to the features the workspace's tests give it. A
//! crate resolved differently is built again with everything above it (a few features of
//! serde, serde_json and regex rebuilt 25 crates, the gpu-host's 41 more: three minutes
//! before the playground was ready), so this fails and names it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each package (`name vX.Y.Z`) with its resolved features.
type Features = BTreeMap<String, BTreeSet<String>>;

/// What `cargo tree` resolves for `args` (offline: it only reads `Cargo.lock` and the
/// manifests).
fn resolved(args: &[&str]) -> Features {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--prefix",
            "none",
            "--format",
            "{p}|{f}",
        ])
        .args(args)
        .current_dir(testkit::spin::workspace_root())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// `name vX.Y.Z (path)|feature,feature` lines, each package once or more.
fn parse(text: &str) -> Features {
    let mut all = Features::new();
    for line in text.lines() {
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let name: Vec<&str> = package.split_whitespace().take(2).collect();
        let features = features.replace("(*)", "");
        all.entry(name.join(" ")).or_default().extend(
            features
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned),
        );
    }
    all
}

/// The packages of `mine` whose features differ from the workspace's, described.
fn drift(mine: &Features, workspace: &Features) -> Vec<String> {
    mine.iter()
        .filter(|(package, features)| workspace.get(*package) != Some(features))
        .map(|(package, features)| {
            let theirs = workspace.get(package).cloned().unwrap_or_default();
            let missing: Vec<&String> = theirs.difference(features).collect();
            let extra: Vec<&String> = features.difference(&theirs).collect();
            format!("{package}: missing {missing:?}, extra {extra:?}")
        })
        .collect()
}

#[test]
fn cargo_run_resolves_every_crate_as_the_workspace_tests_do() {
    let workspace = resolved(&["--workspace", "--edges", "normal,build,dev"]);
    for selection in [
        &["-p", "playground"][..],
        &["-p", "playground", "-p", "gpu-host"],
    ] {
        let args = [selection, &["--edges", "normal,build"]].concat();
        let differ = drift(&resolved(&args), &workspace);
        assert!(
            differ.is_empty(),
            "`cargo build {}` resolves crates with other features than `cargo test \
             --workspace`, so it would build them again; add the missing features to \
             playground/Cargo.toml:\n{}",
            selection.join(" "),
            differ.join("\n")
        );
    }
}

#[test]
fn parse_reads_cargo_tree_lines() {
    let text = "serde v1.0.1|alloc,std\nplayground v0.1.0 (/w/playground)|\n\
                serde v1.0.1|derive (*)\n[dev-dependencies]\n";
    let f = parse(text);
    let serde: Vec<&str> = f["serde v1.0.1"].iter().map(String::as_str).collect();
    assert_eq!(serde, ["alloc", "derive", "std"]);
    assert!(f["playground v0.1.0"].is_empty());
    assert_eq!(f.len(), 2);
}
