//! The declared toolchain is the one that builds: `rust-version` in `Cargo.toml`, the README
//! and the Dockerfile name one version, and no locked dependency asks for a newer Rust.
//! `.ci/run` builds and tests with exactly that version.

use crate::support::root;

/// `rust-version` from the workspace's `Cargo.toml` (`1.95`).
fn declared() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml declares rust-version")
        .to_owned()
}

/// `1.94.0` → (1, 94, 0); a missing part is 0.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn the_readme_and_the_dockerfile_name_the_declared_rust_version() {
    let declared = declared();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust toolchain ({declared} or newer)")),
        "README.md must name Rust {declared}"
    );
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("FROM rust:{declared}-")),
        "the Dockerfile must build with Rust {declared}"
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("rust-version"),
        ".ci/run must build with the declared version"
    );
}

#[test]
fn no_locked_dependency_needs_a_newer_rust_than_declared() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let declared = declared();
    let newer: Vec<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(&declared))
                .then(|| format!("{} {} needs Rust {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(newer.is_empty(), "declared {declared}, but {newer:?}");
    // The check can fail: sqlx 0.9 asks for 1.94, more than the 1.88 once declared.
    let sqlx = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sqlx")
        .expect("sqlx is locked");
    assert!(version(sqlx["rust_version"].as_str().unwrap()) > version("1.88"));
}
