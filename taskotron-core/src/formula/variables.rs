//! Finding variables a formula uses but nothing defines, before anything runs.

use std::collections::BTreeSet;

use super::Formula;
use crate::diagnostic::{Diagnostic, Location};
use crate::item::ItemType;
use crate::suggest::did_you_mean;
use crate::template::Template;
use crate::yaml::{Node, NodeValue};

/// Variables the runner defines for every run. `type` is the original's name for
/// `item_type`; the item is also defined under its type's name (`koji_build`).
pub const BUILTINS: &[&str] = &[
    "item",
    "item_type",
    "type",
    "arch",
    "build_id",
    "run_id",
    "uuid",
    "jobid",
    "workdir",
    "artifactsdir",
    "checkname",
    "taskdir",
    "namespace",
    "tmt_plan",
    "tmt_context",
];

/// The names defined before the first action runs.
#[derive(Debug, Clone, Default)]
pub struct Defined {
    /// Defined names.
    pub names: BTreeSet<String>,
    /// When true, every item type's name counts as defined: `validate` does not know
    /// which type a run will have.
    pub any_item_type: bool,
}

impl Defined {
    /// What `validate` assumes: the built-ins, and the item under any type's name.
    pub fn for_validation() -> Self {
        Self {
            names: BUILTINS.iter().map(|s| s.to_string()).collect(),
            any_item_type: true,
        }
    }

    /// What a run defines: the built-ins, the item under its type's name, and the
    /// overrides.
    pub fn for_run<'a>(item_type: ItemType, overrides: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: BTreeSet<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
        names.insert(item_type.as_str().to_string());
        names.extend(overrides.into_iter().map(str::to_string));
        Self {
            names,
            any_item_type: false,
        }
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains(name) || (self.any_item_type && name.parse::<ItemType>().is_ok())
    }
}

/// Every use of a variable that neither `defined` nor an earlier action's `export`
/// provides, as errors pointing at the use.
pub fn check_variables(formula: &Formula, defined: &Defined) -> Vec<Diagnostic> {
    let mut exported: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for (index, action) in formula.actions.iter().enumerate() {
        let mut uses = Vec::new();
        collect(&action.params, &mut uses);
        if let Some(super::StreamFormat::Junit(path)) = action.results.as_ref().map(|r| &r.format) {
            collect(path, &mut uses);
        }
        for (node, var) in uses {
            if defined.has(&var.name) || exported.contains(&var.name) {
                continue;
            }
            // Under `validate` the item's name under any type is defined, so each
            // type's name is a candidate: `koji_buidl` is `koji_build` misspelt.
            let types = ItemType::ALL
                .iter()
                .filter(|_| defined.any_item_type)
                .map(|t| t.as_str());
            let visible: Vec<&str> = defined
                .names
                .iter()
                .map(String::as_str)
                .chain(exported.iter().map(String::as_str))
                .chain(types)
                .collect();
            let later = formula.actions[index..]
                .iter()
                .find(|a| a.export.as_deref() == Some(var.name.as_str()));
            let help = if let Some(later) = later {
                Some(format!(
                    "`{}` is exported by the action `{}` on line {}, which runs later",
                    var.name, later.name, later.location.line
                ))
            } else if crate::taskenv::of_run(&var.name) {
                Some(format!(
                    "`{0}` is an environment variable of the run, which taskotron would \
                     substitute before the shell sees it; write `$${0}` to let the shell read it",
                    var.name
                ))
            } else if let Ok(t) = var.name.parse::<ItemType>() {
                Some(format!(
                    "`{t}` is defined only when the run's item type is {t}"
                ))
            } else {
                did_you_mean(&var.name, visible.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("define it with `export:` in an earlier action or `--override {}=VALUE`; for a shell variable write `$${}`", var.name, var.name)))
            };
            let loc = Location {
                line: node.location.line,
                column: node.column_of(var.offset),
            };
            let mut d = Diagnostic::error(format!("undefined variable `{}`", var.name))
                .expected("a built-in variable, an override or an earlier export");
            if let Some(h) = help {
                d = d.help(h);
            }
            errors.push(formula.diagnostic_at(d, loc, var.len));
        }
        if let Some(e) = &action.export {
            exported.push(e.clone());
        }
    }
    errors
}

fn collect<'a>(node: &'a Node, out: &mut Vec<(&'a Node, crate::template::VarRef)>) {
    match &node.value {
        NodeValue::Str(s, _) => {
            if let Ok(t) = Template::parse(s) {
                out.extend(t.vars().cloned().map(|v| (node, v)));
            }
        }
        NodeValue::Seq(items) => items.iter().for_each(|i| collect(i, out)),
        NodeValue::Map(entries) => entries.iter().for_each(|(k, v)| {
            collect(k, out);
            collect(v, out);
        }),
        _ => {}
    }
}
