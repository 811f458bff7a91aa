//! The module map holds its shape: every `crate::` edge in `src/` points down this table
//! (ARCHITECTURE.md: UI layers above network/proxy/server/record above the domain, model and
//! text; nothing but the command glue imports the clap module). A new edge that points up, or a
//! new top-level module missing from the table, fails here with the file that made it.

use std::collections::BTreeMap;
use std::path::Path;

/// (module, rank): a module may import only modules of a lower rank.
const LAYERS: &[(&str, u32)] = &[
    // base: untrusted text, the data model, the wire (streams, HTTP heads, compression)
    ("text", 0),
    // payload encodings people type and read (hex, base64)
    ("codec", 0),
    ("model", 0),
    ("fmt", 1),
    // login templates: placeholders, escaping, greeting groups
    ("template", 1),
    // what application protocols need: on-connect frames, auto-replies, presets
    ("openings", 1),
    // files the user names: regular files only, bounded reads
    ("files", 0),
    ("wire", 1),
    // how a client reaches its server: proxy URLs, NO_PROXY, trust files (plain data)
    ("reach", 1),
    // payload decoders for the monitor: MessagePack, CBOR, protobuf, MQTT, socket.io
    ("decode", 2),
    // the domain: what a session is (ConnectSpec, validation, profile + flags)
    ("spec", 2),
    // storage and configuration
    ("record", 3),
    ("config", 3),
    // engines: our client, the demo server, the monitor's view, frame sources
    ("net", 4),
    ("server", 4),
    ("monitor", 4),
    ("source", 4),
    ("proxy", 5),
    // front ends: the app state (panes, actions), scripts, the headless pipe
    ("app", 6),
    ("script", 6),
    ("pipe", 6),
    ("ui", 7),
    ("runtime", 8),
    ("tui", 9),
    // the command line and the per-command glue
    ("cli", 10),
    ("cmd", 11),
];

fn rank(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/net/session.rs` → `net`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::NAME` a file mentions (in `use` lines and in paths alike).
fn crate_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        // Skip `wsdeck_crate::` and the like; only a bare `crate::` is ours.
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn edges() -> BTreeMap<(String, String), String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges = BTreeMap::new();
    for file in files {
        let from = module_of(&src, &file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for to in crate_refs(&text) {
            if to != from {
                edges
                    .entry((from.clone(), to))
                    .or_insert_with(|| file.display().to_string());
            }
        }
    }
    edges
}

#[test]
fn every_module_is_in_the_layer_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut missing: Vec<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m != "lib" && m != "main" && rank(m).is_none())
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "modules missing from tests/layers.rs's table: {missing:?}"
    );
}

#[test]
fn every_crate_edge_points_down() {
    let mut upward = Vec::new();
    for ((from, to), file) in edges() {
        let (Some(rf), Some(rt)) = (rank(&from), rank(&to)) else {
            continue;
        };
        if rt >= rf {
            upward.push(format!("{from} → {to} (rank {rf} → {rt}) in {file}"));
        }
    }
    assert!(
        upward.is_empty(),
        "edges that do not point down:\n{}",
        upward.join("\n")
    );
}

#[test]
fn only_the_command_glue_imports_the_clap_module() {
    let importers: Vec<String> = edges()
        .into_iter()
        .filter(|((from, to), _)| to == "cli" && from != "cmd")
        .map(|((from, _), file)| format!("{from} in {file}"))
        .collect();
    assert!(importers.is_empty(), "cli imported by: {importers:?}");
    let main =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs")).unwrap();
    assert!(
        main.lines().filter(|l| l.contains("wsdeck::")).count() <= 1,
        "main.rs only hands the command line to wsdeck::cmd:\n{main}"
    );
}

#[test]
fn the_checker_sees_real_edges() {
    // A checker that finds nothing would pass anything: the edges the design names exist.
    let e = edges();
    for (from, to) in [
        ("cmd", "cli"),
        ("ui", "app"),
        ("net", "spec"),
        ("spec", "model"),
    ] {
        assert!(
            e.contains_key(&(from.to_string(), to.to_string())),
            "expected an edge {from} → {to}"
        );
    }
    assert_eq!(
        crate_refs("use crate::net::x; wsdeck_crate::y; crate::z"),
        ["net", "z"]
    );
}

/// Lines of the top-level module `m` (`src/m.rs` and everything under `src/m/`).
fn module_lines(m: &str) -> usize {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    if src.join(m).is_dir() {
        rust_files(&src.join(m), &mut files);
    }
    files.push(src.join(format!("{m}.rs")));
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.lines().count())
        .sum()
}

/// The README's module map (Design section) names every module of the table with its rank,
/// and its line counts are within a tenth of the tree's: a module that moved or grew shows up
/// here with the row to write.
#[test]
fn the_readme_module_map_matches_the_tree() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("rank module")
        .expect("README's Design section has the module map");
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("the module map's block ends")];
    let rows: BTreeMap<&str, (u32, usize)> = block
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let rank = w.next()?.parse().ok()?;
            let module = w.next()?;
            let lines = w.next()?.parse().ok()?;
            Some((module, (rank, lines)))
        })
        .collect();
    let mut wrong = Vec::new();
    for &(m, r) in LAYERS {
        let actual = module_lines(m);
        match rows.get(m) {
            Some(&(rank, lines)) if rank == r && lines.abs_diff(actual) * 10 <= actual.max(50) => {}
            _ => wrong.push(format!("{r:<4} {m:<10}{actual:>5}")),
        }
    }
    for m in rows.keys() {
        if rank(m).is_none() {
            wrong.push(format!("{m}: in the README but not in src/"));
        }
    }
    assert!(
        wrong.is_empty(),
        "README's module map is stale; rows as the tree has them:\n{}",
        wrong.join("\n")
    );
}
