//! Task formulas: the YAML a task author writes, read into a validated [`Formula`].
//!
//! Loading reports every problem at once, each as a [`Diagnostic`] with file, line,
//! column, what was expected and a suggestion for near misses. The keys are the
//! original Taskotron's (`name`, `namespace`, `desc`, `maintainer`, `input.args`,
//! `environment`, `actions`; the 2014 `task:` is read with a warning). Pure; the
//! caller reads the file.

mod load;
mod variables;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use load::{load, load_checked};
pub use variables::{check_variables, Defined, BUILTINS};

use crate::diagnostic::{Diagnostic, Location};
use crate::directive::Directive;
use crate::item::ItemType;
use crate::yaml::Node;

/// An action name as a word for file names and checknames: lower-case letters,
/// digits and single `-`, at most 40 characters, `action` when nothing is left.
pub fn slug(name: &str) -> String {
    let lowered: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let joined = lowered
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let s: String = joined.chars().take(40).collect();
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() {
        "action".into()
    } else {
        s
    }
}

/// The namespace of a formula that names none; results land in `scratch.<name>`.
pub const DEFAULT_NAMESPACE: &str = "scratch";

/// An input a formula declares in `input.args`; the run must supply each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum InputArg {
    /// The item, of this type (`--type <it> --item ...`).
    Item(ItemType),
    /// The arch (`--arch`).
    Arch,
}

impl From<InputArg> for String {
    fn from(a: InputArg) -> String {
        match a {
            InputArg::Item(t) => t.as_str().into(),
            InputArg::Arch => "arch".into(),
        }
    }
}

/// The exit codes of a suite that mean "the suite ran" when an action names none:
/// 0 (everything passed) and 1 (some test failed), what every test runner uses.
pub const DEFAULT_EXIT_OK: &[i32] = &[0, 1];

/// A key an action may have beside its directive, for `taskotron directives`.
#[derive(Debug, Clone, Copy)]
pub struct ActionKey {
    /// The key.
    pub name: &'static str,
    /// What it does, one line.
    pub doc: &'static str,
    /// The directives it applies to; `None` for every one.
    pub only: Option<&'static [&'static str]>,
}

/// Every key of an action besides its directive; the loader accepts exactly these
/// (a test keeps the two equal).
pub const ACTION_KEY_DOCS: &[ActionKey] = &[
    ActionKey {
        name: "name",
        doc: "what this step does, shown in status lines and logs (required)",
        only: None,
    },
    ActionKey {
        name: "export",
        doc: "a variable later actions read as `${NAME}`: what the directive returns",
        only: None,
    },
    ActionKey {
        name: "timeout",
        doc: "how long the action may run (`90`, `20m`); the config's `action_timeout` otherwise",
        only: None,
    },
    ActionKey {
        name: "results",
        doc: "the output is a result stream: `tap`, `resultyaml`, or `{junit: FILE}`",
        only: Some(load::STREAM_DIRECTIVES),
    },
    ActionKey {
        name: "exit_ok",
        doc: "with `results`: the exit codes that mean the suite ran (default [0, 1])",
        only: Some(load::STREAM_DIRECTIVES),
    },
    ActionKey {
        name: "checkname",
        doc: "with `results`: the results' checkname (default: the task's)",
        only: Some(load::STREAM_DIRECTIVES),
    },
];

/// What a `shell` or `python` action's output is, when it is a result stream
/// (`results:`): then an allowed exit code is not a failure, and the stream's
/// results and tests are kept whatever happens to the action.
#[derive(Debug, Clone)]
pub struct ResultStream {
    /// How to read it.
    pub format: StreamFormat,
    /// The exit codes of the last command (or the interpreter) that mean the suite
    /// ran; the action's `exit_ok`, else [`DEFAULT_EXIT_OK`].
    pub exit_ok: Vec<i32>,
    /// The checkname its results and its JUnit suite get (`checkname:`); when
    /// absent, the task's, or `<task checkname>.<action>` when several actions of
    /// the formula declare a stream.
    pub checkname: Option<String>,
}

/// The formats of a result stream.
#[derive(Debug, Clone)]
pub enum StreamFormat {
    /// TAP on the standard output of the last command (or the callable's return
    /// value).
    Tap,
    /// ResultYAML on the same.
    ResultYaml,
    /// A JUnit XML file the suite writes; the path is a template, relative to the
    /// task directory.
    Junit(Node),
}

impl StreamFormat {
    /// The word a formula uses.
    pub fn as_str(&self) -> &'static str {
        match self {
            StreamFormat::Tap => "tap",
            StreamFormat::ResultYaml => "resultyaml",
            StreamFormat::Junit(_) => "junit",
        }
    }
}

/// One step of a formula: a directive with its parameters.
#[derive(Clone)]
pub struct Action {
    /// Free text naming the step in logs and reports.
    pub name: String,
    /// The directive that runs it.
    pub directive: &'static dyn Directive,
    /// The directive's value as written (variables not yet substituted).
    pub params: Node,
    /// The variable the directive's return value is stored in.
    pub export: Option<String>,
    /// How long the action may run; the configured default when absent.
    pub timeout: Option<Duration>,
    /// Its output as a result stream, when it declares one (`results:`).
    pub results: Option<ResultStream>,
    /// Where the action starts in the file.
    pub location: Location,
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Action")
            .field("name", &self.name)
            .field("directive", &self.directive.spec().name)
            .field("export", &self.export)
            .field("timeout", &self.timeout)
            .field("results", &self.results.as_ref().map(|r| r.format.as_str()))
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A validated task formula.
#[derive(Debug, Clone)]
pub struct Formula {
    /// The file it was read from, as it was named (diagnostics show it so).
    pub file: PathBuf,
    /// The directory `file` is in, made absolute once when the formula is loaded:
    /// a bare file name (`runtask.yml`) has an empty parent, which a process's
    /// working directory or a sandbox's bind cannot take.
    pub taskdir: PathBuf,
    /// The source text, kept so later checks can point into it.
    pub source: String,
    /// The task's name.
    pub name: String,
    /// Its result namespace (`scratch` unless given).
    pub namespace: String,
    /// Human description.
    pub desc: Option<String>,
    /// Who maintains it.
    pub maintainer: Option<String>,
    /// Inputs the run must supply.
    pub input_args: Vec<InputArg>,
    /// The `environment` section as written (dependencies, for reference).
    pub environment: Option<serde_json::Value>,
    /// The steps, in order.
    pub actions: Vec<Action>,
}

impl Formula {
    /// The testcase name results are reported under: `namespace.name`.
    pub fn checkname(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }

    /// The checkname of the results of `action`'s stream: its `checkname:`, else
    /// the task's when it is the formula's only stream, else
    /// `<task checkname>.<action name>` so that several suites stay apart.
    pub fn stream_checkname(&self, action: &Action) -> String {
        if let Some(name) = action.results.as_ref().and_then(|r| r.checkname.clone()) {
            return name;
        }
        let streams = self.actions.iter().filter(|a| a.results.is_some()).count();
        if streams > 1 && action.results.is_some() {
            format!("{}.{}", self.checkname(), slug(&action.name))
        } else {
            self.checkname()
        }
    }

    /// The directory the formula lives in; relative paths in it resolve from here.
    pub fn taskdir(&self) -> &Path {
        &self.taskdir
    }

    /// The absolute directory of the formula file `file`; `.` for a bare name.
    pub fn taskdir_of(file: &Path) -> PathBuf {
        let parent = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
    }

    /// A diagnostic pointing into this formula.
    pub fn diagnostic_at(&self, d: Diagnostic, location: Location, width: usize) -> Diagnostic {
        d.at(Some(&self.file), &self.source, location, width)
    }
}

/// A formula that loaded, with the warnings it raised.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The formula.
    pub formula: Formula,
    /// Warnings (deprecated keys, missing descriptions); never errors.
    pub warnings: Vec<Diagnostic>,
}

#[cfg(test)]
mod tests;
