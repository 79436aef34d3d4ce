//! The events a TAP stream is made of.

use serde::Serialize;

use super::YamlBlock;

/// A test point's `# SKIP` or `# TODO`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "reason", rename_all = "lowercase")]
pub enum Directive {
    /// Skipped, with the reason.
    Skip(String),
    /// Not expected to pass yet, with the reason.
    Todo(String),
}

/// `ok` / `not ok`, with its number, description, directive and YAML block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestPoint {
    /// 1-based line number in the stream.
    pub line: usize,
    /// Subtest depth (0 at the top level).
    pub depth: usize,
    /// `ok` (true) or `not ok`.
    pub ok: bool,
    /// The number, when the producer wrote one.
    pub id: Option<u64>,
    /// The description, `-` separator removed and `\#`, `\\` unescaped.
    pub description: String,
    /// `# SKIP` / `# TODO`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directive: Option<Directive>,
    /// The YAML diagnostics that followed it (boxed: most points have none, and
    /// events move through queues).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yaml: Option<Box<YamlBlock>>,
}

impl TestPoint {
    /// Whether the point counts as a failure: `not ok` without SKIP or TODO (a failing
    /// TODO is expected; a SKIP did not run).
    pub fn is_failure(&self) -> bool {
        !self.ok && self.directive.is_none()
    }
}

/// A plan line: `1..N`, or `1..0 # reason` to skip everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// 1-based line number.
    pub line: usize,
    /// Subtest depth.
    pub depth: usize,
    /// How many tests are planned.
    pub count: u64,
    /// The text after `#`, if any (the skip reason of `1..0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One element of a TAP stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// `TAP version N`.
    Version {
        /// 1-based line number.
        line: usize,
        /// The version number.
        version: u32,
    },
    /// The plan.
    Plan(Plan),
    /// A test point.
    Test(TestPoint),
    /// A `#` comment.
    Comment {
        /// 1-based line number.
        line: usize,
        /// Subtest depth.
        depth: usize,
        /// The text after `#`, trimmed.
        text: String,
    },
    /// `pragma +name` / `pragma -name`.
    Pragma {
        /// 1-based line number.
        line: usize,
        /// Subtest depth.
        depth: usize,
        /// `+` (true) or `-`.
        enabled: bool,
        /// The pragma's name (`strict`).
        name: String,
    },
    /// `Bail out! reason`.
    BailOut {
        /// 1-based line number.
        line: usize,
        /// Subtest depth.
        depth: usize,
        /// Why.
        reason: String,
    },
    /// A subtest begins (its first line is deeper, or a `# Subtest:` head led to it).
    SubtestStart {
        /// 1-based line number of its head or first line.
        line: usize,
        /// The subtest's depth (1 for the first level).
        depth: usize,
        /// The name from `# Subtest: name`.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A subtest ended; the test point that follows at the parent's depth closes it.
    SubtestEnd {
        /// 1-based line number of the line that ended it.
        line: usize,
        /// The subtest's depth.
        depth: usize,
    },
    /// A line that is not TAP (build noise, stray output). Kept, never lost.
    Unknown {
        /// 1-based line number.
        line: usize,
        /// The line as it was.
        text: String,
    },
}

impl Event {
    /// The line the event starts on.
    pub fn line(&self) -> usize {
        match self {
            Event::Version { line, .. }
            | Event::Comment { line, .. }
            | Event::Pragma { line, .. }
            | Event::BailOut { line, .. }
            | Event::SubtestStart { line, .. }
            | Event::SubtestEnd { line, .. }
            | Event::Unknown { line, .. } => *line,
            Event::Plan(p) => p.line,
            Event::Test(t) => t.line,
        }
    }
}
