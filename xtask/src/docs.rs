//! `cargo xtask docs`: renders the book in `docs/` with mdBook into `target/book`,
//! installing mdBook (into `target/tools`, nothing global) when it is missing.
//! The book's content is checked by the test suite, not here: every shell block
//! runs and every whole formula validates (`tests/tests/examples.rs`).

use anyhow::Result;

use crate::util::{cargo, root, step};

/// Builds the book; `--open` is left to the user's browser.
pub fn run() -> Result<()> {
    let tools = root().join("target/tools");
    let mdbook = tools.join("bin/mdbook");
    if !mdbook.is_file() {
        let mut install = cargo();
        install
            .args([
                "install",
                "mdbook",
                "--locked",
                "--no-default-features",
                "--root",
            ])
            .arg(&tools);
        step("cargo install mdbook", install)?;
    }
    let mut build = std::process::Command::new(&mdbook);
    build.arg("build").arg(root().join("docs"));
    step("mdbook build docs", build)?;
    eprintln!(
        "{:>12} {}",
        "Finished",
        root().join("target/book/index.html").display()
    );
    Ok(())
}
