//! TAP (the Test Anything Protocol): a streaming reader, a validation pass, and the
//! TAP13 emitter.
//!
//! The reader follows TAP14 and reads TAP13 and TAP12 streams as they are found in
//! the wild (no version line, YAML at 2 or 4 spaces, comments between a test point
//! and its YAML, `# skipped`, `#` in descriptions, noise lines, CRLF, node's
//! subtests). It holds one test point's lookahead at a time, so memory does not grow
//! with the stream. Structure problems are not reader errors: [`Validator`] reports
//! them as diagnostics with line numbers. YAML blocks are kept as text and decoded
//! only when asked ([`YamlBlock::decode`]). No I/O beyond the `BufRead` given.

mod block;
mod emit;
mod event;
mod lines;
mod reader;
mod validate;
mod yamlish;

pub use block::YamlBlock;
pub use emit::{emit, emit_point, type_phrase};
pub use event::{Directive, Event, Plan, TestPoint};
pub use reader::Reader;
pub use validate::{Summary, Validator, MAX_DIAGNOSTICS};
pub use yamlish::{write_block, write_list_document, write_list_item};

#[cfg(test)]
mod tests;
