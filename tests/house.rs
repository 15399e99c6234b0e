//! The house stays easy to walk: no source file over 600 lines, and no import
//! circle between source files.
//!
//! A file depends on another when it names an item through it: a `use` (or
//! `pub use`) of `crate::…`, `super::…`, `self::…` or a child module, or such
//! a path written inline in code. A path is charged to the deepest module
//! file it goes through, so importing an item through a folder's `mod.rs`
//! re-export counts as depending on that `mod.rs`. Inline `#[cfg(test)]`
//! modules at the end of a file are not counted (they may look back up).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file below its crate root (`src/protocol/seam.rs` →
/// `["protocol", "seam"]`; `mod.rs`, `lib.rs` and `main.rs` name their folder).
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string literals and a trailing
/// `#[cfg(test)] mod tests { … }`.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut code = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        // Drop string literals (they may hold paths in messages).
        let mut in_string = false;
        let mut escaped = false;
        for c in line.chars() {
            if in_string {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => escaped = false,
                }
            } else if c == '"' {
                in_string = true;
            } else {
                code.push(c);
            }
        }
        code.push('\n');
    }
    code
}

/// Expands a use tree (`a::{b, c::{d}}`) into paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let prefix: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut start = 0;
        let mut parts = Vec::new();
        for (i, c) in inner.char_indices() {
            match c {
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
            .filter(|p| !p.trim().is_empty())
            .flat_map(|p| {
                expand(p).into_iter().map(|rest| {
                    let mut path = prefix.clone();
                    path.extend(rest);
                    path
                })
            })
            .collect()
    } else {
        let tree = tree.split(" as ").next().unwrap_or(tree);
        vec![
            tree.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ]
    }
}

/// The paths a file's code names: its `use` trees and inline
/// `crate::`/`super::`/`self::` paths.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = after.find(';') else { break };
        paths.extend(expand(&after[..end]));
    }
    for anchor in ["crate::", "super::", "self::"] {
        let mut rest = code;
        while let Some(at) = rest.find(anchor) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            rest = &rest[at + anchor.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    paths
}

/// The dependency graph of one crate: file → files it depends on.
fn graph(root: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|f| (module_of(root, f), f.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for file in files {
        let here = module_of(root, file);
        let code = code_of(&fs::read_to_string(file).unwrap());
        let mut deps = BTreeSet::new();
        for path in paths_in(&code) {
            let (mut target, skip) = match path.first().map(String::as_str) {
                Some("crate") => (Vec::new(), 1),
                Some("self") => (here.clone(), 1),
                Some("super") => (here[..here.len().saturating_sub(1)].to_vec(), 1),
                Some(first) => {
                    let mut child = here.clone();
                    child.push(first.to_owned());
                    if !modules.contains_key(&child) {
                        continue; // an outside crate
                    }
                    (here.clone(), 0)
                }
                None => continue,
            };
            let mut segments = path.iter().skip(skip).peekable();
            // `super::super::…`
            while segments.peek().map(|s| s.as_str()) == Some("super") {
                segments.next();
                target.pop();
            }
            let mut deepest = modules.get(&target).cloned();
            for segment in segments {
                target.push(segment.clone());
                match modules.get(&target) {
                    Some(file) => deepest = Some(file.clone()),
                    None => break,
                }
            }
            if let Some(dep) = deepest.filter(|dep| dep != file) {
                deps.insert(dep);
            }
        }
        edges.insert(file.clone(), deps);
    }
    edges
}

/// A circle in `edges`, if there is one.
fn find_circle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        stack: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle = stack[at..].to_vec();
            circle.push(node.clone());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, stack, done) {
                return Some(circle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

fn crates() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    rust_files(&src, &mut all);
    let bin = src.join("bin");
    let (bins, lib): (Vec<_>, Vec<_>) = all.into_iter().partition(|f| f.starts_with(&bin));
    let mut crates = vec![(src, lib)];
    let mut roots: BTreeSet<PathBuf> = bins
        .iter()
        .filter_map(|f| {
            f.strip_prefix(&bin)
                .ok()?
                .iter()
                .next()
                .map(|d| bin.join(d))
        })
        .collect();
    for root in std::mem::take(&mut roots) {
        let files = bins
            .iter()
            .filter(|f| f.starts_with(&root))
            .cloned()
            .collect();
        crates.push((root, files));
    }
    // The workspace's other crates (the `lro` CLI, the fleet) keep the same rules.
    for member in ["cli", "fleet"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(member)
            .join("src");
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        crates.push((root, files));
    }
    crates
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut big = Vec::new();
    for (_, files) in crates() {
        for file in files {
            let lines = fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                big.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(big.is_empty(), "split these along their ideas: {big:#?}");
}

#[test]
fn no_import_circle_between_source_files() {
    let mut circles = Vec::new();
    for (root, files) in crates() {
        let mut edges = graph(&root, &files);
        // Report every circle, breaking each one found to look for the next.
        while let Some(circle) = find_circle(&edges) {
            let shown: Vec<_> = circle
                .iter()
                .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
                .collect();
            circles.push(shown.join(" → "));
            if let Some(deps) = edges.get_mut(&circle[0]) {
                deps.remove(&circle[1]);
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn the_checker_sees_a_circle_through_a_folder_root() {
    let dir = std::env::temp_dir().join(format!("lro-house-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("room")).unwrap();
    fs::write(dir.join("lib.rs"), "mod room;\npub use room::Thing;\n").unwrap();
    fs::write(
        dir.join("room/mod.rs"),
        "mod a;\npub use a::Thing;\npub struct Base;\n",
    )
    .unwrap();
    fs::write(
        dir.join("room/a.rs"),
        "use super::Base;\npub struct Thing;\n",
    )
    .unwrap();
    let files = vec![
        dir.join("lib.rs"),
        dir.join("room/mod.rs"),
        dir.join("room/a.rs"),
    ];
    let circle = find_circle(&graph(&dir, &files)).expect("a circle");
    assert!(circle.len() == 3, "{circle:?}");

    // Importing from the defining file instead breaks it.
    fs::write(
        dir.join("room/mod.rs"),
        "mod a;\nmod base;\npub use a::Thing;\npub use base::Base;\n",
    )
    .unwrap();
    fs::write(dir.join("room/base.rs"), "pub struct Base;\n").unwrap();
    fs::write(
        dir.join("room/a.rs"),
        "use super::base::Base;\npub struct Thing;\n",
    )
    .unwrap();
    let mut files = files;
    files.push(dir.join("room/base.rs"));
    assert_eq!(find_circle(&graph(&dir, &files)), None);
    fs::remove_dir_all(&dir).unwrap();
}
