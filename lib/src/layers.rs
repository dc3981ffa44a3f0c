//! The layer rule of docs/architecture.md, checked on the source itself.
//!
//! Each top-level module of the crate is a layer with a rank; a module may name (`crate::…` or
//! `super::…` paths) only modules of layers ranked below its own, and the second-level modules
//! inside one layer (`formats::swarm`, `formats::nodelist`, …) must not import each other in a
//! cycle. Daemons share a rank and may not import each other: what two daemons need belongs in
//! `server`. The test reads `lib/src` as text, so it sees exactly what a reviewer sees; test
//! modules (`#[cfg(test)] mod …` to the end of a file) are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. Modules on one line share a rank (siblings).
const LAYERS: &[&[&str]] = &[
    &["formats"],
    &["net"],
    &["client"],
    &["server"],
    &["snode", "fileserver", "sogs"],
    &["testnet"],
    &["cli"],
];

/// Files that are the crate root or this check itself, not part of any layer.
const EXEMPT: &[&str] = &["lib.rs", "layers.rs"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|group| group.contains(&layer))
}

/// One `use` or path reference from a module to another, with where it was written.
#[derive(Debug, Clone)]
struct Edge {
    from: Vec<String>,
    to: Vec<String>,
    file: String,
    line: usize,
}

impl Edge {
    fn describe(&self) -> String {
        format!("{} ({}:{}) imports {}", self.from.join("::"), self.file, self.line, self.to.join("::"))
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `formats/rpc/mod.rs` → `[formats, rpc]`; `formats/rpc/params.rs` → `[formats, rpc, params]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" {
            parts.push(stem.to_string());
        }
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The module path that starts at byte `at` of `line` (after `crate::` or `super::`s).
fn path_segments(rest: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut s = rest;
    loop {
        let end = s.find(|c: char| !is_ident_char(c)).unwrap_or(s.len());
        if end == 0 {
            break;
        }
        segs.push(s[..end].to_string());
        match s[end..].strip_prefix("::") {
            Some(next) => s = next,
            None => break,
        }
    }
    segs
}

/// Every module reference in one file's non-test code.
fn edges_of(file: &Path, relative: &Path) -> Vec<Edge> {
    let Ok(text) = std::fs::read_to_string(file) else { return Vec::new() };
    let from = module_path(relative);
    let mut edges = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let line = raw.trim_start();
        if line.starts_with("#[cfg(test)]")
            && lines.peek().is_some_and(|(_, next)| next.trim_start().starts_with("mod "))
        {
            break;
        }
        if line.starts_with("//") {
            continue;
        }
        let mut search = 0;
        while let Some(found) = line[search..].find("crate::").map(|i| i + search) {
            search = found + "crate::".len();
            let preceded = line[..found].chars().next_back().is_some_and(is_ident_char);
            if preceded {
                continue;
            }
            let to = if line[search..].starts_with('{') {
                // A grouped import names several modules at once; the check wants one per use.
                vec!["{".to_string()]
            } else {
                path_segments(&line[search..])
            };
            edges.push(Edge {
                from: from.clone(),
                to,
                file: relative.display().to_string(),
                line: index + 1,
            });
        }
        let mut search = 0;
        while let Some(found) = line[search..].find("super::").map(|i| i + search) {
            let preceded = line[..found].chars().next_back().is_some_and(|c| is_ident_char(c) || c == ':');
            let mut at = found;
            let mut base = from.clone();
            while line[at..].starts_with("super::") {
                base.pop();
                at += "super::".len();
            }
            search = at;
            if preceded {
                continue;
            }
            base.extend(path_segments(&line[at..]));
            edges.push(Edge {
                from: from.clone(),
                to: base,
                file: relative.display().to_string(),
                line: index + 1,
            });
        }
    }
    edges
}

/// Every edge of the crate's source, and the list of violations of the layer rule.
fn check(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut problems = Vec::new();
    // (layer, second-level module) → modules of the same layer it imports.
    let mut inner: BTreeMap<(String, String), BTreeMap<String, Edge>> = BTreeMap::new();
    for file in &files {
        let Ok(relative) = file.strip_prefix(src) else { continue };
        if EXEMPT.iter().any(|e| relative == Path::new(e)) {
            continue;
        }
        for edge in edges_of(file, relative) {
            let (Some(from_layer), Some(to_layer)) = (edge.from.first(), edge.to.first()) else { continue };
            if to_layer == "{" {
                problems.push(format!("{}: write one `use crate::…` per module", edge.describe()));
                continue;
            }
            let (Some(from_rank), Some(to_rank)) = (rank(from_layer), rank(to_layer)) else {
                if rank(from_layer).is_none() {
                    problems.push(format!(
                        "{}: {from_layer} is not a layer; add it to LAYERS and docs/architecture.md",
                        edge.describe()
                    ));
                }
                // A path into a non-layer (`crate::SomeReexport`) is the crate root's API.
                continue;
            };
            if from_layer != to_layer {
                if to_rank >= from_rank {
                    problems.push(format!(
                        "{}: {from_layer} (layer {}) may import only layers below it, not {to_layer} (layer {})",
                        edge.describe(),
                        from_rank + 1,
                        to_rank + 1
                    ));
                }
                continue;
            }
            if let (Some(a), Some(b)) = (edge.from.get(1), edge.to.get(1))
                && a != b
            {
                inner.entry((from_layer.clone(), a.clone())).or_default().entry(b.clone()).or_insert(edge);
            }
        }
    }
    problems.extend(cycles(&inner));
    problems
}

/// Cycles between second-level modules of one layer, each reported once by the edges on it.
fn cycles(graph: &BTreeMap<(String, String), BTreeMap<String, Edge>>) -> Vec<String> {
    let mut reported = BTreeSet::new();
    let mut out = Vec::new();
    for ((layer, start), _) in graph.iter() {
        // Depth-first search for a path from each neighbour back to `start`.
        let mut stack: Vec<(String, Vec<Edge>)> = vec![(start.clone(), Vec::new())];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            let Some(next) = graph.get(&(layer.clone(), node.clone())) else { continue };
            for (target, edge) in next {
                let mut path = path.clone();
                path.push(edge.clone());
                if target == start {
                    let mut members: Vec<String> =
                        path.iter().filter_map(|e| e.from.get(1).cloned()).collect();
                    members.sort();
                    if reported.insert((layer.clone(), members)) {
                        let chain: Vec<String> = path.iter().map(Edge::describe).collect();
                        out.push(format!("cycle inside {layer}: {}", chain.join("; ")));
                    }
                } else if seen.insert(target.clone()) {
                    stack.push((target.clone(), path));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn every_import_points_down_the_layers_and_no_layer_has_a_cycle() {
        let problems = check(&src());
        assert!(problems.is_empty(), "layer rule broken ({}):\n{}", problems.len(), problems.join("\n"));
    }

    #[test]
    fn every_top_level_module_is_a_layer() {
        let entries = std::fs::read_dir(src()).unwrap();
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if EXEMPT.contains(&path.file_name().unwrap().to_string_lossy().as_ref()) {
                continue;
            }
            assert!(rank(&name).is_some(), "lib/src/{name} is in no layer: add it to LAYERS");
        }
    }

    #[test]
    fn the_check_finds_an_upward_import_and_a_cycle() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("formats")).unwrap();
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(
            root.join("formats/a.rs"),
            "use crate::net::http::Client;\nuse crate::formats::b::X;\n",
        )
        .unwrap();
        std::fs::write(root.join("formats/b.rs"), "use super::a::Y;\n").unwrap();
        std::fs::write(
            root.join("net/http.rs"),
            "use crate::formats::a::Y;\n#[cfg(test)]\nmod tests {\nuse crate::cli::Z;\n}\n",
        )
        .unwrap();
        let problems = check(root);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains("formats::a (formats/a.rs:1) imports net::http::Client"),
            "{}",
            problems[0]
        );
        assert!(problems[1].starts_with("cycle inside formats"), "{}", problems[1]);
    }
}
