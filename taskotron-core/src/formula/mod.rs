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

pub use load::load;
pub use variables::{check_variables, Defined, BUILTINS};

use crate::diagnostic::{Diagnostic, Location};
use crate::directive::Directive;
use crate::item::ItemType;
use crate::yaml::Node;

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
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A validated task formula.
#[derive(Debug, Clone)]
pub struct Formula {
    /// The file it was read from.
    pub file: PathBuf,
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

    /// The directory the formula lives in; relative paths in it resolve from here.
    pub fn taskdir(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
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
