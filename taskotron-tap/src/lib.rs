//! TAP and check results, on their own: reading TAP 13 and 14 from any producer
//! (`tap`), CheckDetail, ResultYAML, JUnit and every output format (`results`),
//! and what they stand on: a YAML tree that keeps positions (`yaml`), diagnostics
//! with file, line and column (`diagnostic`) and "did you mean" (`suggest`).
//!
//! *Invariant: no I/O beyond the readers and writers a caller gives (and the JUnit
//! writer's temporary file); no dependency on the rest of taskotron, so the TAP
//! fuzz target and benchmark build only this. The dependency graph enforces it.*

#![warn(missing_docs)]

pub mod diagnostic;
pub mod results;
pub mod suggest;
pub mod tap;
pub mod yaml;

pub use diagnostic::Diagnostic;
