//! The README is the user's contract: its commands and key table must match the program.

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn readme_key_table_matches_the_help_overlay() {
    let expected = wsdeck::app::keymap::key_table_markdown();
    let readme = readme();
    if !readme.contains(&expected) {
        // Paste this between the KEYS markers of README.md.
        println!("{expected}");
        panic!("README.md's key table differs from app::keymap::KEYMAP (printed above)");
    }
}

/// The README's first screenshot is what the program draws: tests/ui.rs `readme_chat_view`'s
/// snapshot, trailing spaces trimmed.
#[test]
fn readme_chat_screenshot_is_the_programs_own_render() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snap =
        std::fs::read_to_string(root.join("tests/snapshots/ui__readme_chat_view.snap")).unwrap();
    let drawn: Vec<&str> = snap
        .lines()
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix('"'))
        .map(str::trim_end)
        .collect();
    let readme = readme();
    let after = readme
        .split_once("The chat view (`wsdeck demo`")
        .expect("the chat view's screenshot")
        .1;
    let block = after
        .split_once("```text\n")
        .and_then(|(_, b)| b.split_once("\n```"))
        .expect("a text block")
        .0;
    let shown: Vec<&str> = block.lines().map(str::trim_end).collect();
    if shown != drawn {
        // Paste this as the README's first screenshot.
        println!("{}", drawn.join("\n"));
        panic!(
            "README.md's chat screenshot differs from ui__readme_chat_view.snap (printed above)"
        );
    }
}

#[test]
fn readme_names_the_two_commands_that_ci_and_users_run() {
    let readme = readme();
    assert!(readme.contains("cargo run --release -- demo"));
    assert!(readme.contains("\ncargo test\n"));
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run must run `cargo test`"
    );
    assert!(ci.contains("WSDECK_REQUIRE_PEERS=1"));
}

#[test]
fn shipped_assets_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    wsdeck::script::Script::load(&root.join("assets/demo.script")).unwrap();
    wsdeck::config::Config::parse(
        &std::fs::read_to_string(root.join("assets/config.toml")).unwrap(),
        &root.join("assets/config.toml"),
    )
    .unwrap();
}
