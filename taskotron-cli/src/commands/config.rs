//! `taskotron config`: the configuration in effect.

use taskotron_core::config::Loaded;

use super::print_json;
use crate::cli::Format;
use crate::exit;

/// Prints the configuration and where it came from.
pub fn run(loaded: &Loaded, format: Format) -> i32 {
    match format {
        Format::Json => print_json(&loaded.shown()),
        Format::Human => {
            match &loaded.file {
                Some(f) => println!("# from {}", f.display()),
                None => println!("# no config file; embedded defaults"),
            }
            for var in &loaded.env_overrides {
                println!("# overridden by ${var}");
            }
            print!("{}", config_text(&loaded.config));
        }
    }
    exit::OK
}

fn config_text(config: &taskotron_core::config::Config) -> String {
    let value = config.shown();
    let mut out = String::new();
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            out.push_str(&format!("{k}: {text}\n"));
        }
    }
    out
}
