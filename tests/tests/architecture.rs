//! `docs/architecture.md` held against the code: the crate table against `cargo metadata`,
//! the job and payment state tables against the guarded SQL that moves them, the README's
//! layout against the workspace, and every path a comment or document names against the
//! files that exist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use qwen_core::contract::JobStatus;
use qwen_core::payments::PaymentStatus;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The rows of the first Markdown table after the heading `heading`, cells trimmed.
fn table(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no section {heading}"));
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

fn architecture() -> String {
    read("docs/architecture.md")
}

// ---- crates ----

/// Workspace members: name → (directory relative to the root, workspace deps).
fn workspace() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "cargo metadata failed");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let root = std::fs::canonicalize(root()).expect("root");
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
            let dir = manifest
                .parent()
                .expect("dir")
                .strip_prefix(&root)
                .expect("in root");
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|d| names.contains(*d))
                .map(str::to_owned)
                .collect();
            (name, (dir.to_string_lossy().into_owned(), deps))
        })
        .collect()
}

fn listed(cell: &str) -> BTreeSet<String> {
    cell.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "—")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_crate_table_is_the_workspace() {
    let doc = architecture();
    let rows = table(&doc, "## Who owns what");
    let documented: BTreeMap<String, (String, BTreeSet<String>)> = rows
        .iter()
        .map(|r| (r[0].clone(), (r[1].clone(), listed(&r[3]))))
        .collect();
    let actual = workspace();
    let missing: Vec<_> = actual
        .keys()
        .filter(|k| !documented.contains_key(*k))
        .collect();
    let extra: Vec<_> = documented
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "crates missing from the table: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "crates in the table that do not exist: {extra:?}"
    );
    for (name, (dir, deps)) in &actual {
        let (doc_dir, doc_deps) = &documented[name];
        assert_eq!(doc_dir, dir, "{name}: directory");
        assert_eq!(doc_deps, deps, "{name}: workspace dependencies");
    }
}

#[test]
fn the_gpu_host_knows_the_edge_only_through_the_contract() {
    let (_, deps) = &workspace()["gpu-host"];
    assert!(!deps.contains("qwen-core"), "{deps:?}");
    let (_, botapi) = &workspace()["botapi"];
    assert!(!botapi.contains("qwen-core"), "{botapi:?}");
}

#[test]
fn the_readme_layout_lists_every_crate() {
    let readme = read("README.md");
    let layout = &readme[readme.find("## Layout").expect("layout section")..];
    for (name, (dir, _)) in workspace() {
        let top = if dir.is_empty() {
            name.clone()
        } else {
            dir.clone()
        };
        let covered = layout.contains(&top)
            || Path::new(&top).parent().is_some_and(|p| {
                !p.as_os_str().is_empty() && layout.contains(&format!("{}/", p.display()))
            });
        assert!(covered, "README layout does not list {name} ({top})");
    }
}

// ---- state machines ----

type Moves = BTreeSet<(String, String)>;

fn documented_moves(heading: &str) -> Moves {
    table(&architecture(), heading)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

/// Every string literal of `source`, with Rust's `\` line continuations joined.
fn literals(source: &str) -> Vec<String> {
    let joined = regex_lite::Regex::new(r"\\\n\s*")
        .expect("regex")
        .replace_all(source, "");
    regex_lite::Regex::new(r#""((?:[^"\\]|\\.)*)""#)
        .expect("regex")
        .captures_iter(&joined)
        .map(|c| c[1].to_owned())
        .collect()
}

/// The (from, to) status moves of every guarded `UPDATE <table> SET status = …` in `files`.
fn coded_moves(table_name: &str, files: &[&str]) -> Moves {
    let set_to = regex_lite::Regex::new(r"^status = '(\w+)'").expect("regex");
    let case = regex_lite::Regex::new(r"status = CASE WHEN [^']*status = '(\w+)' THEN '(\w+)'")
        .expect("regex");
    let guard = regex_lite::Regex::new(r"status (?:IN \(([^)]*)\)|= '(\w+)')").expect("regex");
    let word = regex_lite::Regex::new(r"'(\w+)'").expect("regex");
    let prefix = format!("UPDATE {table_name} SET ");
    let mut moves = Moves::new();
    for text in files.iter().flat_map(|f| literals(&read(f))) {
        let Some(rest) = text.strip_prefix(&prefix) else {
            continue;
        };
        if let Some(c) = case.captures(rest) {
            moves.insert((c[1].to_owned(), c[2].to_owned()));
            continue;
        }
        let Some(to) = set_to.captures(rest).map(|c| c[1].to_owned()) else {
            continue;
        };
        let (_, condition) = rest.split_once(" WHERE ").expect("a guarded update");
        let g = guard.captures(condition).expect("a status guard");
        let froms: Vec<String> = match (g.get(1), g.get(2)) {
            (Some(list), _) => word
                .captures_iter(list.as_str())
                .map(|w| w[1].to_owned())
                .collect(),
            (_, Some(one)) => vec![one.as_str().to_owned()],
            _ => Vec::new(),
        };
        for from in froms {
            moves.insert((from, to.clone()));
        }
    }
    moves
}

fn without_creation(moves: &Moves) -> Moves {
    moves.iter().filter(|(f, _)| f != "—").cloned().collect()
}

fn creation(moves: &Moves) -> Vec<String> {
    moves
        .iter()
        .filter(|(f, _)| f == "—")
        .map(|(_, t)| t.clone())
        .collect()
}

#[test]
fn the_job_table_is_what_the_sql_does() {
    let doc = documented_moves("## Job states");
    let code = coded_moves("jobs", &["functions/core/src/jobs.rs"]);
    assert!(code.len() >= 6, "updates were found: {code:?}");
    assert_eq!(without_creation(&doc), code);
    assert_eq!(creation(&doc), ["queued"]);
    let schema = read("functions/core/migrations/0001_init.sql");
    assert!(schema.contains("status           TEXT NOT NULL DEFAULT 'queued'"));
    let known: BTreeSet<String> = JobStatus::ALL.iter().map(|s| s.to_string()).collect();
    for (from, to) in &doc {
        assert!(from == "—" || known.contains(from), "unknown status {from}");
        assert!(known.contains(to), "unknown status {to}");
    }
}

#[test]
fn the_payment_table_is_what_the_sql_does() {
    let doc = documented_moves("## Payment states");
    let code = coded_moves("payments", &["functions/core/src/payments/store.rs"]);
    assert!(code.len() >= 5, "updates were found: {code:?}");
    assert_eq!(without_creation(&doc), code);
    assert_eq!(creation(&doc), ["pending"]);
    assert!(
        read("functions/core/src/payments/checkout.rs").contains("status: PaymentStatus::Pending,")
    );
    let known: BTreeSet<String> = PaymentStatus::ALL.iter().map(|s| s.to_string()).collect();
    for (from, to) in &doc {
        assert!(from == "—" || known.contains(from), "unknown status {from}");
        assert!(known.contains(to), "unknown status {to}");
    }
}

// ---- references ----

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if p.is_dir() {
            files_under(&p, out);
        } else if ["rs", "md", "toml", "wit", "sh", "yaml"]
            .iter()
            .any(|x| name.ends_with(&format!(".{x}")))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_reference_resolves_inside_the_repository() {
    let root = root();
    let mut files = Vec::new();
    files_under(&root, &mut files);
    let tops =
        "functions|gpu-host|tests|docs|wit|workflows|deploy|runtime-config|scripts|playground";
    let path = regex_lite::Regex::new(&format!(r"`((?:{tops})/[A-Za-z0-9_./{{}}-]*[A-Za-z0-9_])`"))
        .expect("regex");
    // Spelled in pieces so that this file does not itself name what it forbids.
    let outside = [
        concat!("..", "/shared"),
        concat!("`", "shared/"),
        concat!("ARCHI", "TECTURE.md"),
        concat!("SPIN-", "FACTS.md"),
        concat!("issue", " item"),
        concat!("seed", " 8."),
    ];
    let mut broken = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        if rel == "tests/tests/architecture.rs" {
            continue;
        }
        for bad in outside {
            if text.contains(bad) {
                broken.push(format!("{rel}: mentions {bad}"));
            }
        }
        for c in path.captures_iter(&text) {
            let target = &c[1];
            if target.contains('{') || target.contains('*') {
                continue;
            }
            // Relative to the root or to a directory the file is in (its crate).
            let resolves = f
                .ancestors()
                .skip(1)
                .take_while(|d| d.starts_with(&root))
                .any(|d| d.join(target).exists());
            if !resolves {
                broken.push(format!("{rel}: `{target}` does not exist"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "references that do not resolve:\n{}",
        broken.join("\n")
    );
}

// ---- rules in one place ----

/// The source file of module path `path` (`jobs`, `payments::stars`, `bot::transition`):
/// qwen-core's when its first segment is a core module, else the crate whose directory under
/// `functions/` the first segment names.
fn module_file(path: &[&str]) -> Option<PathBuf> {
    let core = root().join("functions/core/src");
    let in_core = |first: &str| {
        core.join(format!("{first}.rs")).is_file() || core.join(first).join("mod.rs").is_file()
    };
    let (dir, rest) = match path.first() {
        Some(first) if !in_core(first) => {
            (root().join("functions").join(first).join("src"), &path[1..])
        }
        _ => (core, path),
    };
    (1..=rest.len()).rev().find_map(|n| {
        let base = rest[..n].iter().fold(dir.clone(), |d, s| d.join(s));
        [base.with_extension("rs"), base.join("mod.rs")]
            .into_iter()
            .find(|p| p.is_file())
    })
}

/// Every production source file: each crate's `src/` under `functions/` and the gpu-host's.
fn production_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("functions"))
        .expect("functions")
        .flatten()
    {
        walk(&entry.path().join("src"), &mut out);
    }
    walk(&root().join("gpu-host/src"), &mut out);
    out
}

/// The first backticked text of a cell, with Markdown's `\|` unescaped.
fn code_in(cell: &str) -> Option<String> {
    let start = cell.find('`')? + 1;
    let len = cell[start..].find('`')?;
    Some(cell[start..start + len].replace("\\|", "|"))
}

#[test]
fn every_rule_lives_in_the_function_the_table_names() {
    let doc = architecture().replace("\\|", "&#124;");
    let rows = table(&doc, "## Rules that live in one place");
    assert!(rows.len() >= 10, "{rows:?}");
    let sources = production_sources();
    for row in &rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace("&#124;", "\\|")).collect();
        let function = code_in(&cells[1]).unwrap_or_else(|| panic!("no function in {cells:?}"));
        let path: Vec<&str> = function.split("::").collect();
        let (name, module) = path.split_last().expect("a path");
        let file = module_file(module).unwrap_or_else(|| panic!("{function}: no module file"));
        let text = std::fs::read_to_string(&file).expect("source");
        let defined = [format!("pub fn {name}("), format!("pub async fn {name}(")];
        assert!(
            defined.iter().any(|d| text.contains(d.as_str())),
            "{function}: no `pub fn {name}` in {}",
            file.display()
        );
        let Some(fragment) = code_in(&cells[2]) else {
            continue;
        };
        let elsewhere: Vec<_> = sources
            .iter()
            .filter(|p| **p != file)
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&fragment)))
            .collect();
        assert!(
            text.contains(&fragment),
            "{function}: {fragment:?} not in its file"
        );
        assert!(
            elsewhere.is_empty(),
            "{fragment:?} is written again in {elsewhere:?}"
        );
    }
}
