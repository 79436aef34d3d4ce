//! `taskotron directives`: what a formula can use, from the registry itself.

use serde_json::json;
use taskotron_core::directive::{self, Shape};
use taskotron_core::formula::{ActionKey, ACTION_KEY_DOCS};

use super::print_json;
use crate::cli::Format;
use crate::error::Outcome;
use crate::exit;

/// Lists the keys of every action, then every directive and its parameters.
pub fn run(format: Format) -> Outcome {
    let specs: Vec<_> = directive::REGISTRY.iter().map(|d| d.spec()).collect();
    match format {
        Format::Json => {
            let list: Vec<_> = specs
                .iter()
                .map(|s| {
                    let params: Vec<_> = match s.shape {
                        Shape::Params { params, .. } => params
                            .iter()
                            .map(|p| json!({"name": p.name, "required": p.required, "doc": p.doc}))
                            .collect(),
                        Shape::Commands => Vec::new(),
                    };
                    let extra = matches!(s.shape, Shape::Params { extra: true, .. });
                    let keys: Vec<_> = action_keys(s.name)
                        .map(|k| json!({"name": k.name, "doc": k.doc}))
                        .collect();
                    json!({"name": s.name, "summary": s.summary, "commands": matches!(s.shape, Shape::Commands), "params": params, "extra_params": extra, "returns": s.returns, "action_keys": keys})
                })
                .collect();
            print_json(&json!(list));
        }
        Format::Human => {
            outln!("Every action: `name`, one directive, and these keys:");
            for k in ACTION_KEY_DOCS {
                let only = k
                    .only
                    .map_or(String::new(), |d| format!(" ({} only)", d.join(", ")));
                outln!("    {}{only}: {}", k.name, k.doc);
            }
            outln!();
            for s in specs {
                outln!("{}: {}", s.name, s.summary);
                match s.shape {
                    Shape::Commands => outln!(
                        "    a list of commands: strings run under `sh -c`, lists run as argv"
                    ),
                    Shape::Params { params, extra } => {
                        for p in params {
                            outln!(
                                "    {}{}: {}",
                                p.name,
                                if p.required { "" } else { " (optional)" },
                                p.doc
                            );
                        }
                        if extra {
                            outln!("    ...: any other key is passed on as a keyword argument");
                        }
                    }
                }
                outln!("    exports: {}", s.returns);
            }
        }
    }
    Ok(exit::OK)
}

/// The action keys that apply to directive `name`.
fn action_keys(name: &str) -> impl Iterator<Item = &'static ActionKey> + '_ {
    ACTION_KEY_DOCS
        .iter()
        .filter(move |k| k.only.is_none_or(|only| only.contains(&name)))
}
