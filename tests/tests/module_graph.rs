//! No import circle inside any crate: the module graph of every library (and binary) root of
//! the workspace, read from the sources, has no cycle — the way `architecture.rs` holds the
//! crate graph.
//!
//! A node is a module file (`foo.rs`, `foo/mod.rs`). An edge A → B means A names something
//! of B: a `use` or a path through `crate::`, `super::` or `self::`, or a bare path through
//! one of A's own child modules (`child::f()`). A file naming its own items is no edge;
//! declaring `mod child;` alone is none either (the compiler needs it; it is the child's
//! place, not a dependency), and neither is a crate root's `pub use` (the crate's façade to
//! other crates: a module using a re-exported name depends on the re-exported module, not on
//! the root). Test modules (`#[cfg(test)]` and below) are left out: they sit
//! inside the module they test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex_lite::Regex;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every library and binary root file of the workspace's members, with its crate's name.
fn crate_roots() -> Vec<(String, PathBuf)> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut roots = Vec::new();
    for p in meta["packages"].as_array().expect("packages") {
        for t in p["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let lib_or_bin = kinds
                .iter()
                .any(|k| matches!(*k, "lib" | "cdylib" | "rlib" | "bin"));
            if lib_or_bin && let Some(src) = t["src_path"].as_str() {
                let name = format!("{}/{}", p["name"].as_str().unwrap_or("?"), t["name"]);
                roots.push((name, PathBuf::from(src)));
            }
        }
    }
    roots
}

/// A module: its path inside the crate (`crate::a::b`) and its file.
#[derive(Debug, Clone)]
struct Module {
    path: String,
    file: PathBuf,
}

/// The source of a file without comments, string contents and its test modules.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    let strings = Regex::new(r#""([^"\\]|\\.)*""#).expect("regex");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .map(|l| strings.replace_all(l, "\"\"").into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The child modules a file declares with `mod name;`.
fn declared_children(code: &str) -> Vec<String> {
    let decl =
        Regex::new(r"(?m)^\s*(pub(\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;").expect("regex");
    decl.captures_iter(code).map(|c| c[3].to_owned()).collect()
}

/// The file of child `name` of the module in `file` (`is_root`: a `lib.rs`, `main.rs` or
/// `mod.rs`, whose children sit beside it).
fn child_file(file: &Path, name: &str) -> Option<PathBuf> {
    let stem = file.file_stem()?.to_str()?;
    let dir = file.parent()?;
    let base = match stem {
        "lib" | "main" | "mod" => dir.to_path_buf(),
        _ if file.parent()?.ends_with("bin") => dir.to_path_buf(),
        _ => dir.join(stem),
    };
    [
        base.join(format!("{name}.rs")),
        base.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// Every module file reachable from a crate root.
fn modules(root_file: &Path) -> Vec<Module> {
    let mut out = vec![Module {
        path: "crate".into(),
        file: root_file.to_path_buf(),
    }];
    let mut i = 0;
    while i < out.len() {
        let m = out[i].clone();
        for name in declared_children(&code_of(&m.file)) {
            if let Some(file) = child_file(&m.file, &name) {
                out.push(Module {
                    path: format!("{}::{name}", m.path),
                    file,
                });
            }
        }
        i += 1;
    }
    out
}

/// Expands a `use` tree (`crate::{a, b::{c, d}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// Every path a module's code names: the paths of its `use` trees and every
/// `crate::…`/`super::…`/`self::…`/`child::…` path in its body.
fn named_paths(code: &str, children: &[String]) -> Vec<String> {
    let uses = Regex::new(r"(?s)\buse\s+([^;]+);").expect("regex");
    let mut paths: Vec<String> = uses
        .captures_iter(code)
        .flat_map(|c| expand(&c[1]))
        .collect();
    let inline = Regex::new(r"(?:^|[^:\w])((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
        .expect("regex");
    paths.extend(inline.captures_iter(code).map(|c| c[1].to_owned()));
    for child in children {
        let bare = Regex::new(&format!(r"(?:^|[^:\w]){child}::")).expect("regex");
        if bare.is_match(code) {
            paths.push(format!("self::{child}"));
        }
    }
    paths
}

/// The module a path names, seen from module `from`: the longest known module prefix.
fn target(path: &str, from: &str, known: &BTreeSet<String>) -> Option<String> {
    let path = path.trim_end_matches("::*").replace(" as ", "::as::");
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = from.split("::").collect();
    let first = *segs.first()?;
    match first {
        "crate" => base = vec!["crate"],
        "self" => {}
        "super" => {
            while segs.first() == Some(&"super") {
                segs.remove(0);
                base.pop()?;
            }
            segs.insert(0, "self");
        }
        _ => return None,
    }
    let full: Vec<&str> = base.into_iter().chain(segs.into_iter().skip(1)).collect();
    (1..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|p| known.contains(p))
}

/// The module graph of one crate root: module → modules it names.
fn graph(root_file: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(root_file);
    let known: BTreeSet<String> = mods.iter().map(|m| m.path.clone()).collect();
    let facade = Regex::new(r"(?s)\bpub\s+use\s+[^;]+;").expect("regex");
    mods.iter()
        .map(|m| {
            let mut code = code_of(&m.file);
            if m.path == "crate" {
                code = facade.replace_all(&code, "").into_owned();
            }
            let children = declared_children(&code);
            let edges = named_paths(&code, &children)
                .iter()
                .filter_map(|p| target(p, &m.path, &known))
                .filter(|t| *t != m.path)
                .collect();
            (m.path.clone(), edges)
        })
        .collect()
}

/// The strongly connected components with more than one module (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut found = Vec::new();
    let mut modules = 0;
    for (name, file) in crate_roots() {
        let g = graph(&file);
        modules += g.len();
        for c in circles(&g) {
            found.push(format!("{name}: {}", c.join(" ↔ ")));
        }
    }
    assert!(modules > 150, "the walk found the modules: {modules}");
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_reader_sees_edges_and_circles() {
    let fixture = std::env::temp_dir().join(format!("module-graph-{}", std::process::id()));
    let src = fixture.join("src");
    std::fs::create_dir_all(src.join("pages")).expect("dirs");
    let write = |rel: &str, text: &str| std::fs::write(src.join(rel), text).expect("write");
    write("lib.rs", "pub mod pages;\npub mod html;\n");
    write("html.rs", "//! use crate::pages;\npub fn page() {}\n");
    write(
        "pages/mod.rs",
        "pub mod users;\nuse crate::html;\npub fn helper() {}\npub fn route() { users::render(); }\n",
    );
    write(
        "pages/users.rs",
        "use super::{helper, super::html::page};\npub fn render() {}\n",
    );
    let g = graph(&src.join("lib.rs"));
    assert_eq!(
        g["crate::pages"],
        BTreeSet::from(["crate::html".to_owned(), "crate::pages::users".to_owned()])
    );
    assert!(g["crate::html"].is_empty(), "a comment is no edge: {g:?}");
    assert_eq!(
        circles(&g),
        vec![vec![
            "crate::pages".to_owned(),
            "crate::pages::users".to_owned()
        ]]
    );
    write(
        "pages/users.rs",
        "use crate::html::page;\npub fn render() {}\n",
    );
    assert!(circles(&graph(&src.join("lib.rs"))).is_empty());
    let _ = std::fs::remove_dir_all(&fixture);
}

/// `MODULE_GRAPH=<crate> cargo test -p testkit --test module_graph -- --nocapture` prints
/// that crate's module graph (every edge), to see where a circle runs.
#[test]
fn print_a_graph_on_request() {
    let Ok(wanted) = std::env::var("MODULE_GRAPH") else {
        return;
    };
    for (name, file) in crate_roots()
        .into_iter()
        .filter(|(n, _)| n.starts_with(&wanted))
    {
        println!("# {name}");
        for (m, edges) in graph(&file) {
            let edges: Vec<_> = edges.into_iter().collect();
            println!("{m} → {}", edges.join(", "));
        }
    }
}
