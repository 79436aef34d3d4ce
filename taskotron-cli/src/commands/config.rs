//! `taskotron config`: the configuration in effect.

use taskotron_core::config::Loaded;

use super::print_json;
use crate::cli::Format;
use crate::error::Outcome;
use crate::exit;

/// Prints the configuration and where it came from.
pub fn run(loaded: &Loaded, format: Format) -> Outcome {
    match format {
        Format::Json => print_json(&loaded.shown()),
        Format::Human => {
            match &loaded.file {
                Some(f) => outln!("# from {}", f.display()),
                None => outln!("# no config file; embedded defaults"),
            }
            for var in &loaded.env_overrides {
                outln!("# overridden by ${var}");
            }
            out!("{}", config_text(loaded));
        }
    }
    Ok(exit::OK)
}

/// `key: value`, one a line in the table's order, with where each value came from
/// when it is not the default; secrets are left out.
fn config_text(loaded: &Loaded) -> String {
    use taskotron_core::config::{keys::env_var, Source, KEYS};
    let value = loaded.config.shown();
    let mut out = String::new();
    for key in KEYS {
        let Some(v) = value.get(key.name) else {
            continue;
        };
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let from = match loaded.sources.get(key.name) {
            Some(Source::File) => "  # file".to_string(),
            Some(Source::Env) => format!("  # ${}", env_var(key.name)),
            _ => String::new(),
        };
        out.push_str(&format!("{}: {text}{from}\n", key.name));
    }
    out
}
