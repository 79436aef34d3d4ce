//! `taskotron directives`: what a formula can use, from the registry itself.

use serde_json::json;
use taskotron_core::directive::{self, Shape};

use super::print_json;
use crate::cli::Format;
use crate::error::Outcome;
use crate::exit;

/// Lists every directive and its parameters.
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
                    json!({"name": s.name, "summary": s.summary, "commands": matches!(s.shape, Shape::Commands), "params": params, "extra_params": extra, "returns": s.returns})
                })
                .collect();
            print_json(&json!(list));
        }
        Format::Human => {
            for s in specs {
                println!("{}: {}", s.name, s.summary);
                match s.shape {
                    Shape::Commands => println!(
                        "    a list of commands: strings run under `sh -c`, lists run as argv"
                    ),
                    Shape::Params { params, extra } => {
                        for p in params {
                            println!(
                                "    {}{}: {}",
                                p.name,
                                if p.required { "" } else { " (optional)" },
                                p.doc
                            );
                        }
                        if extra {
                            println!("    ...: any other key is passed on as a keyword argument");
                        }
                    }
                }
                println!("    exports: {}", s.returns);
            }
        }
    }
    Ok(exit::OK)
}
