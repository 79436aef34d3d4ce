//! `python`: calls a function in a Python file with keyword arguments; exports what
//! it returns.
//!
//! The call runs in a separate interpreter. The return value travels back as JSON
//! through a file of its own, never through standard output, so whatever the check
//! prints cannot corrupt it. A value JSON cannot hold is exported as its `str()`.

use std::process::Command;

use serde_json::Value;

use super::{read_end, tail, Context, Directive, Failure, Param, ParamKind, Params, Shape, Spec};
use crate::process::Ended;

/// The task's code raised an exception (a libtaskotron one, or any other).
pub const TASK_EXCEPTION: super::FailureKind =
    super::FailureKind::new("TASK_EXCEPTION", super::Cause::Task);

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
                kind: ParamKind::Path,
                doc: "path of the .py file, relative to the task directory or under ${workdir} or ${artifactsdir}",
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

/// Puts the task directory and the embedded `libtaskotron` on the import path,
/// sends every logger's records to the action's log, loads the file as a module
/// (without `importlib.util`, which Python 2 lacks), calls the function with the
/// JSON keyword arguments and writes `{"value": ...}` to the result file. An
/// exception from the task is written as `{"error": ...}` so the run can name it.
/// Exit code 3 marks a problem of the formula (no such function) rather than of
/// the check.
const BOOTSTRAP: &str = r#"
import json, logging, os, sys, traceback
path, name, kwargs_path, out_path, libdir = sys.argv[1:6]
sys.argv = [path]
sys.path.insert(0, libdir)
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
    format="[%(name)s:%(filename)s:%(lineno)d] %(asctime)s %(levelname)-7s %(message)s",
    datefmt="%Y-%m-%d %H:%M:%S")
modname = os.path.splitext(os.path.basename(path))[0]
if modname in sys.modules or not modname.replace("_", "a").isalnum():
    modname = "taskotron_check"
def write(doc):
    with open(out_path, "w") as f:
        f.write(json.dumps(doc))
def failed(e):
    traceback.print_exc()
    try:
        from libtaskotron.exceptions import TaskotronError
        ours = isinstance(e, TaskotronError)
    except Exception:
        ours = False
    try:
        message = str(e)
    except Exception:
        message = repr(e)
    write({"error": {"type": type(e).__name__, "message": message, "libtaskotron": ours}})
    sys.exit(1)
try:
    if sys.version_info >= (3, 5):
        import importlib.util
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
    else:
        import imp
        module = imp.load_source(modname, path)
except Exception as e:
    failed(e)
func = getattr(module, name, None)
if not callable(func):
    sys.stderr.write("%s has no function called %r\n" % (path, name))
    sys.exit(3)
with open(kwargs_path) as f:
    kwargs = json.load(f)
if sys.version_info[0] < 3:
    kwargs = dict((str(k), v) for k, v in kwargs.items())
try:
    value = func(**kwargs)
except Exception as e:
    failed(e)
try:
    data = {"value": value}
    json.dumps(data)
except (TypeError, ValueError):
    data = {"value": str(value)}
write(data)
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
            ("callable", Some(c)) if !is_python_identifier(c) => {
                Err(("a Python function name".into(), None))
            }
            _ => Ok(()),
        }
    }

    fn run(&self, params: &Params, ctx: &mut Context) -> Result<Value, Failure> {
        let text = |key: &str| super::text_param(params, key);
        let (file, callable) = (text("file"), text("callable"));
        let path = match ctx.roots.locate(std::path::Path::new(&file)) {
            Ok((root, rel)) => root.shown(rel),
            Err(e) => return Err(super::path_failure("python: `file`", &e)),
        };
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
        // The hand-off files live outside the workdir, which tasks scan, in the run's
        // TMPDIR (inside its scratch, so that a sandbox shows them).
        let tmp = ctx
            .env
            .iter()
            .find(|(k, _)| k == "TMPDIR")
            .map_or_else(std::env::temp_dir, |(_, v)| std::path::PathBuf::from(v));
        let handoff = tempfile::Builder::new()
            .prefix("taskotron-python-")
            .tempdir_in(&tmp)
            .map_err(|e| Failure::new(format!("python: cannot make a temporary directory: {e}")))?;
        // Opened before the task runs: the task may write in its TMPDIR, so the
        // answer is read beneath this handle, following no link it left there.
        let hand = taskotron_beneath::Dir::open(handoff.path())
            .map_err(|e| Failure::new(format!("python: {e}")))?;
        let kwargs_path = handoff.path().join("kwargs.json");
        let out_path = handoff.path().join(RETURNED);
        hand.write("kwargs.json", Value::Object(kwargs).to_string())
            .map_err(|e| Failure::new(format!("python: cannot write the arguments: {e}")))?;
        let libdir = library_dir(ctx)?;
        let mut cmd = Command::new(&ctx.python);
        // -B: no bytecode written next to the task's modules (the task directory
        // is the task author's, and read-only under a sandbox).
        cmd.arg("-B")
            .arg("-c")
            .arg(BOOTSTRAP)
            .arg(&path)
            .arg(&callable)
            .arg(&kwargs_path)
            .arg(&out_path)
            .arg(&libdir)
            .current_dir(&ctx.taskdir);
        let shown = [crate::sandbox::Bind::ReadOnly(libdir.clone())];
        let ended = ctx
            .run_task(cmd, &shown, ctx.timeout, &ctx.env)
            .map_err(|e| super::spawn_failure(&e, &ctx.python, &ctx.python, &ctx.taskdir))?;
        let stderr = || tail(&read_end(&ctx.stderr, 0), 20);
        ctx.process_exit = ended.code();
        if let Some(raised) = raised(&hand) {
            return Err(Failure::named(
                TASK_EXCEPTION,
                format!("{file}:{callable} raised {raised} (its traceback is in the action's stderr log)"),
            ));
        }
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
        let returned = hand
            .read_to_string(RETURNED, super::MAX_TASK_FILE)
            .map_err(|e| match e {
                e if e.is_refusal() => super::path_failure(&format!("{file}:{callable}"), &e),
                e => Failure::new(format!("{file}:{callable} returned nothing readable: {e}")),
            })?;
        let mut doc: Value = serde_json::from_str(&returned).map_err(|e| {
            Failure::new(format!("{file}:{callable}: unreadable return value: {e}"))
        })?;
        Ok(doc.get_mut("value").map(Value::take).unwrap_or(Value::Null))
    }
}

/// The file the bootstrap writes the return value (or the exception) to.
const RETURNED: &str = "return.json";

/// The exception a task raised, as `Name: message`, when the bootstrap wrote one.
fn raised(hand: &taskotron_beneath::Dir) -> Option<String> {
    let text = hand.read_to_string(RETURNED, super::MAX_TASK_FILE).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    let error = doc.get("error")?;
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("an exception");
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    Some(if message.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {message}")
    })
}

/// Where the embedded `libtaskotron` is installed: the state directory's cache,
/// else (a read-only state directory) the system's temporary directory.
pub(super) fn library_dir(ctx: &Context) -> Result<std::path::PathBuf, Failure> {
    // A run without a state directory (a library caller's default) must not
    // write a `cache/` into whatever the current directory is.
    let state = &ctx.reporting.state_dir;
    let primary = if state.as_os_str().is_empty() {
        std::env::temp_dir().join("taskotron-cache")
    } else {
        state.join("cache")
    };
    crate::pylib::install(&primary)
        .or_else(|_| crate::pylib::install(&std::env::temp_dir().join("taskotron-cache")))
        .map_err(|e| {
            Failure::new(format!(
                "python: cannot install the libtaskotron package: {e}"
            ))
        })
}

/// A Python identifier (Python 3 allows letters beyond ASCII).
fn is_python_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}
