//! Where the `taskotron` binary the process-level tests run is.
//!
//! Cargo builds a package's binaries only for that package's own integration tests;
//! this crate is another package, so the binary is found beside the test executable
//! (`target/<profile>/deps/..`). `cargo test --workspace` builds it, and so do
//! `cargo xtask e2e` and `cargo xtask integration` before they run their tests.

use std::path::PathBuf;

/// The command that builds the binary these tests need, for messages.
pub const BUILD_COMMAND: &str = "cargo build -p taskotron-cli";

/// The directory holding the binaries of the profile this test was built with.
pub fn dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> → target/<profile>
    exe.parent()
        .and_then(std::path::Path::parent)
        .map(std::path::Path::to_path_buf)
        .expect("a test executable lives in target/<profile>/deps")
}

/// The `taskotron` binary, or a failed test that says how to build it.
pub fn taskotron() -> PathBuf {
    let bin = dir().join("taskotron");
    assert!(
        bin.exists(),
        "`{}` does not exist: build it with `{BUILD_COMMAND}` (add `--release` for a release \
         test build); `cargo test --workspace`, `cargo xtask e2e` and `cargo xtask integration` \
         build it themselves",
        bin.display()
    );
    bin
}
