//! Tests that need a program from outside the crate (redis-server, chromium and chromedriver)
//! skip, saying why, when it is missing: a user running `cargo test` on the published package has
//! no reason to have them. `scripts/test` sets `SWS_REQUIRE_EXTERNAL=1`, and then a missing
//! program fails the test instead, so nothing is ever skipped there.

use std::path::Path;

/// The variable that turns a skip into a failure.
pub const REQUIRE_EXTERNAL: &str = "SWS_REQUIRE_EXTERNAL";

/// Whether every program in `programs` is on `PATH`. When one is missing: with
/// `SWS_REQUIRE_EXTERNAL=1` this panics (the test fails); otherwise it prints why the test is
/// skipped, naming `install` (the script that installs them), and returns `false`, and the test
/// returns at once.
///
/// ```ignore
/// if !common::have_programs("this test", &["redis-server"], "scripts/install/redis") {
///     return;
/// }
/// ```
pub fn have_programs(test: &str, programs: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|program| !on_path(program))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let them = if missing.len() == 1 { "it" } else { "them" };
    let why = format!(
        "{test} needs {} (not found on PATH; {install} installs {them})",
        missing.join(" and ")
    );
    if std::env::var_os(REQUIRE_EXTERNAL).is_some_and(|v| v == "1") {
        panic!("{why}; {REQUIRE_EXTERNAL}=1 forbids skipping");
    }
    eprintln!("SKIPPED: {why}; set {REQUIRE_EXTERNAL}=1 to fail instead");
    false
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
}

#[cfg(unix)]
fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(file: &Path) -> bool {
    file.is_file() || file.with_extension("exe").is_file()
}
