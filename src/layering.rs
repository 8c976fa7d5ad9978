//! Keeps the layer list in `lib.rs` true: every `crate::` path in a module names only
//! modules listed before it (or the module itself).

use std::path::{Path, PathBuf};

/// The top-level modules in the order `lib.rs`'s `# Layout` lists them.
fn layers() -> Vec<String> {
    include_str!("lib.rs")
        .lines()
        .skip_while(|l| !l.starts_with("//! # Layout"))
        .filter_map(|l| l.strip_prefix("//! - `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a source file names with `crate::NAME`.
fn used_modules(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `feedsift::` and `$crate::` are not paths of ours.
        if text[..at].ends_with('$') || text[..at].ends_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        let name: String = text[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.push(name);
        }
    }
    used
}

#[test]
fn no_module_uses_a_module_above_it() {
    let layers = layers();
    assert!(
        layers.len() >= 10 && layers.contains(&"store".to_string()),
        "the layer list in lib.rs was not found: {layers:?}"
    );
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        let Some(level) = layers.iter().position(|l| *l == top) else {
            // lib.rs, main.rs and this file are not layers.
            continue;
        };
        let text = std::fs::read_to_string(file).expect("source file is readable");
        for used in used_modules(&text) {
            match layers.iter().position(|l| *l == used) {
                Some(at) if at > level => violations.push(format!(
                    "{}: uses crate::{used}, which is above `{top}` in lib.rs's layout",
                    relative.display()
                )),
                None => violations.push(format!(
                    "{}: uses crate::{used}, which lib.rs's layout does not list",
                    relative.display()
                )),
                _ => {}
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_check_sees_a_path_that_goes_up() {
    assert_eq!(
        used_modules("use crate::server::Error;\nlet x = feedsift::cli::run; $crate::a"),
        vec!["server"]
    );
}
