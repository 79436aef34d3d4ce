//! `python`: calls a function in a Python file with keyword arguments; exports what
//! it returns.
//!
//! The call runs in a separate interpreter. The return value travels back as JSON
//! through a file of its own, never through standard output, so whatever the check
//! prints cannot corrupt it. A value JSON cannot hold is exported as its `str()`.

use std::process::Command;

use serde_json::Value;

use super::{read_end, tail, Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::process::{self, Ended};

/// The `python` directive.
pub struct Python;

static SPEC: Spec = Spec {
    name: "python",
    summary: "call `callable` in the Python `file` with every other key as a keyword argument",
    shape: Shape::Params {
        params: &[
            Param {
                name: "file",
                required: true,
                kind: ParamKind::Str,
                doc: "path of the .py file, relative to the task directory",
            },
            Param {
                name: "callable",
                required: true,
                kind: ParamKind::Str,
                doc: "name of the function to call",
            },
        ],
        extra: true,
    },
    returns: "the callable's return value",
    exactly_one: &[],
};

/// Loads the file as a module, calls the function with the JSON keyword arguments
/// and writes `{"value": ...}` to the result file. Exit code 3 marks a problem of the
/// formula (no such function) rather than of the check.
const BOOTSTRAP: &str = r#"
import importlib.util, json, os, sys
path, name, kwargs_path, out_path = sys.argv[1:5]
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
spec = importlib.util.spec_from_file_location("taskotron_check", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
func = getattr(module, name, None)
if not callable(func):
    sys.stderr.write("%s has no function called %r\n" % (path, name))
    sys.exit(3)
with open(kwargs_path) as f:
    kwargs = json.load(f)
value = func(**kwargs)
try:
    data = json.dumps({"value": value})
except (TypeError, ValueError):
    data = json.dumps({"value": str(value)})
with open(out_path, "w") as f:
    f.write(data)
"#;

impl Directive for Python {
    fn spec(&self) -> &'static Spec {
        &SPEC
    }

    fn check_literal(&self, param: &str, value: &Value) -> Result<(), (String, Option<String>)> {
        match (param, value.as_str()) {
            ("file", Some(f)) if !f.ends_with(".py") => {
                Err(("a path to a `.py` file".into(), None))
            }
            ("callable", Some(c)) if !is_identifier(c) => {
                Err(("a Python function name".into(), None))
            }
            _ => Ok(()),
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = |key: &str| super::text_param(params, key);
        let (file, callable) = (text("file"), text("callable"));
        let path = ctx.taskdir.join(&file);
        if !path.is_file() {
            return Err(Failure::new(format!(
                "python: no file `{}`",
                path.display()
            )));
        }
        let kwargs: serde_json::Map<String, Value> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "file" && k.as_str() != "callable")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let stem = format!("python-{}", std::process::id());
        let kwargs_path = ctx.workdir.join(format!("{stem}.kwargs.json"));
        let out_path = ctx.workdir.join(format!("{stem}.return.json"));
        let _ = std::fs::remove_file(&out_path);
        std::fs::write(&kwargs_path, Value::Object(kwargs).to_string()).map_err(|e| {
            Failure::new(format!(
                "python: cannot write {}: {e}",
                kwargs_path.display()
            ))
        })?;
        let mut cmd = Command::new(&ctx.python);
        cmd.arg("-c")
            .arg(BOOTSTRAP)
            .arg(&path)
            .arg(&callable)
            .arg(&kwargs_path)
            .arg(&out_path)
            .current_dir(&ctx.taskdir);
        let ended = process::run_task(cmd, &ctx.stdout, &ctx.stderr, ctx.timeout, &ctx.env)
            .map_err(|e| Failure::new(format!("cannot run `{}`: {e}", ctx.python)))?;
        let stderr = || tail(&read_end(&ctx.stderr_path, 0), 20);
        ctx.process_exit = ended.code();
        // A suite that ends with an allowed exit code without returning
        // (`sys.exit(1)`) ran: its stream is what it printed.
        let suite_code = ended
            .exit_code()
            .filter(|c| *c != 0 && ctx.exit_ok.as_ref().is_some_and(|ok| ok.contains(c)));
        if suite_code.is_some() {
            return Ok(Value::Null);
        }
        match ended {
            Ended::TimedOut => {
                return Err(Failure {
                    message: format!(
                        "{file}:{callable} ran past the action's timeout of {}s and was killed",
                        ctx.timeout.as_secs()
                    ),
                    timed_out: true,
                    kind: None,
                })
            }
            Ended::Interrupted(signal) => {
                return Err(Failure::new(format!(
                    "{file}:{callable} was killed: taskotron was interrupted by signal {signal}"
                )))
            }
            e if !e.success() => {
                return Err(Failure::new(format!(
                    "{file}:{callable} failed ({}); its stderr ends with:\n{}",
                    e.describe().replace("exited with", "exit"),
                    stderr()
                )))
            }
            _ => {}
        }
        let returned = std::fs::read_to_string(&out_path).map_err(|e| {
            Failure::new(format!("{file}:{callable} returned nothing readable: {e}"))
        })?;
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&kwargs_path);
        let mut doc: Value = serde_json::from_str(&returned).map_err(|e| {
            Failure::new(format!("{file}:{callable}: unreadable return value: {e}"))
        })?;
        Ok(doc.get_mut("value").map(Value::take).unwrap_or(Value::Null))
    }
}

fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}
