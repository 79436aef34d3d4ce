//! fmf trees as tmt reads them: the tree from `.fmf/version`, node names from paths
//! and `/`-keys, scattered definitions merged, inheritance (`/: {inherit: false}`),
//! the merge operators (`+`, `+<`, `-`, `-~`, `~`) and which nodes are listed
//! (`select`), `adjust` rules for a context, the `--filter` language, and tmt's
//! tests and plans over a tree with the fields of `tmt tests export`. No Rust crate reads fmf; this one is written against the Python fmf
//! as the oracle (facts from its documentation, never its code).
//!
//! *Invariant: this crate reads files and does nothing else: no process, no
//! network, no writes.* Every problem is a [`Diagnostic`] with its file and place.

pub mod adjust;
pub mod condition;
pub mod context;
pub mod filter;
pub mod merge;
pub mod tmt;
pub mod tree;

pub use context::{Context, Decision};
pub use taskotron_tap::Diagnostic;
pub use tree::{Node, Tree};
