//! One directive run alone, fed by a plain dictionary: what `taskotron call
//! NAME` does for `libtaskotron.directives` (Taskotron's playbook tasks called
//! the directives from Python), and what lets any directive be tried outside a
//! formula.
//!
//! The protocol (version [`PROTOCOL`]): the caller writes one JSON object on
//! standard input, `{"protocol": 1, "params": {...}, "arg_data": {...}}`;
//! `params` are the directive's parameters as a formula gives them, and
//! `arg_data` the original's runner arguments, of which `item`, `type`, `arch`,
//! `checkname`, `workdir`, `artifactsdir` and `taskdir` are read. The answer is
//! one JSON object on standard output: `{"protocol": 1, "value": V}` (V what a
//! formula's `export` would hold), or `{"protocol": 1, "error": {"type":
//! "TaskotronDirectiveError", "message": ..., "failure": NAME|null}}` with the
//! libtaskotron exception the original raised. A request that is not one is
//! refused before any directive runs ([`CallError`]).

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::directive::{self, Context, Failure, Services};

/// The protocol version spoken.
pub const PROTOCOL: u64 = 1;

/// A request that is not one.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The input is no JSON object of the protocol.
    #[error("not a `taskotron call` request: {0}")]
    Request(String),
    /// No directive has that name.
    #[error("no directive `{name}`{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownDirective {
        /// The name asked for.
        name: String,
        /// The nearest name there is.
        suggestion: Option<String>,
    },
}

/// A parsed request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The directive's parameters.
    pub params: Map<String, Value>,
    /// The runner's arguments.
    pub arg_data: Map<String, Value>,
}

/// What a call needs from the configuration.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Where directives download from.
    pub services: Services,
    /// Where results are reported.
    pub reporting: crate::resultsdb::Reporting,
    /// The Python interpreter of the `python` directive.
    pub python: String,
    /// How long the directive may take.
    pub timeout: Duration,
}

/// What a call gave: the answer to print, and what the directive wrote on its
/// output (to be shown on standard error, never mixed with the answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The protocol's answer.
    pub answer: Value,
    /// The directive's output.
    pub output: String,
}

/// Reads a request.
///
/// # Errors
/// The text is no JSON object, names another protocol version, or `params` or
/// `arg_data` is not an object.
pub fn parse_request(text: &str) -> Result<Request, CallError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        CallError::Request(format!("line {}, column {}: {e}", e.line(), e.column()))
    })?;
    let Value::Object(mut doc) = doc else {
        return Err(CallError::Request(
            "expected a JSON object with `params` and `arg_data`".into(),
        ));
    };
    match doc.get("protocol") {
        None => {}
        Some(v) if v.as_u64() == Some(PROTOCOL) => {}
        Some(v) => {
            return Err(CallError::Request(format!(
                "protocol {v} is not spoken here (expected {PROTOCOL})"
            )))
        }
    }
    let mut object = |key: &str| match doc.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(CallError::Request(format!(
            "`{key}` is {}, expected an object",
            kind(&other)
        ))),
    };
    let params = object("params")?;
    let arg_data = object("arg_data")?;
    if let Some(k) = doc.keys().find(|k| *k != "protocol") {
        return Err(CallError::Request(format!(
            "unknown key `{k}` (expected `protocol`, `params` and `arg_data`)"
        )));
    }
    Ok(Request { params, arg_data })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The directive called `name`.
///
/// # Errors
/// There is none; the error names the nearest.
pub fn find(name: &str) -> Result<&'static dyn directive::Directive, CallError> {
    directive::find(name).ok_or_else(|| CallError::UnknownDirective {
        name: name.to_string(),
        suggestion: taskotron_tap::suggest::did_you_mean(name, directive::names())
            .map(str::to_string),
    })
}

/// Runs `directive` for `request` in `cwd` and answers. Relative paths resolve
/// in `arg_data.taskdir`, else `cwd`; the directive reads and writes beneath that
/// directory, the workdir, the artifacts directory and an absolute `target_dir`
/// (the caller is the task itself: these are its own directories).
pub fn call(
    directive: &'static dyn directive::Directive,
    request: &Request,
    setup: &Setup,
    cwd: &Path,
) -> Answered {
    let mut output = String::new();
    let answer = match run(directive, request, setup, cwd, &mut output) {
        Ok(v) => json!({"protocol": PROTOCOL, "value": v}),
        Err(f) => json!({"protocol": PROTOCOL, "error": {
            "type": exception(&f),
            "message": f.message,
            "failure": f.kind.map(|k| k.name),
        }}),
    };
    Answered { answer, output }
}

/// The libtaskotron exception the original raised for `failure`.
fn exception(failure: &Failure) -> &'static str {
    let remote = ["cannot reach", "connection", "timed out", "HTTP "];
    if failure.timed_out || remote.iter().any(|w| failure.message.contains(w)) {
        "TaskotronRemoteError"
    } else {
        "TaskotronDirectiveError"
    }
}

fn run(
    directive: &'static dyn directive::Directive,
    request: &Request,
    setup: &Setup,
    cwd: &Path,
    output: &mut String,
) -> Result<Value, Failure> {
    let arg = |k: &str| {
        request
            .arg_data
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            cwd.join(p)
        }
    };
    let beneath = |e: taskotron_beneath::Error| Failure::new(e.to_string());
    let taskdir = arg("taskdir").map_or_else(|| cwd.to_path_buf(), absolute);
    // The original took `workdir: None` as "none given": a scratch directory for
    // the call, removed after it.
    let scratch = tempfile::Builder::new()
        .prefix("taskotron-call-")
        .tempdir()
        .map_err(|e| Failure::new(format!("cannot create a workdir: {e}")))?;
    let workdir = arg("workdir").map_or_else(|| scratch.path().to_path_buf(), absolute);
    let artifactsdir = arg("artifactsdir").map_or_else(|| workdir.clone(), absolute);
    for d in [&workdir, &artifactsdir] {
        std::fs::create_dir_all(d)
            .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", d.display())))?;
    }
    let mut roots = vec![
        (
            "the task directory",
            taskotron_beneath::Dir::open(&taskdir).map_err(beneath)?,
        ),
        (
            "the workdir",
            taskotron_beneath::Dir::open(&workdir).map_err(beneath)?,
        ),
        (
            "the artifacts directory",
            taskotron_beneath::Dir::open(&artifactsdir).map_err(beneath)?,
        ),
    ];
    if let Some(target) = request
        .params
        .get("target_dir")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        std::fs::create_dir_all(&target).map_err(|e| {
            Failure::new(format!(
                "target_dir: cannot create `{}`: {e}",
                target.display()
            ))
        })?;
        roots.push((
            "the target directory",
            taskotron_beneath::Dir::open(&target).map_err(beneath)?,
        ));
    }
    let file = || tempfile::tempfile().map_err(|e| Failure::new(format!("cannot log: {e}")));
    let (stdout, stderr) = (file()?, file()?);
    let (mut out_read, mut err_read) = (
        stdout
            .try_clone()
            .map_err(|e| Failure::new(e.to_string()))?,
        stderr
            .try_clone()
            .map_err(|e| Failure::new(e.to_string()))?,
    );
    let item = arg("item")
        .or_else(|| arg("koji_build"))
        .or_else(|| arg("update_id"))
        .unwrap_or_default();
    let checkname = arg("checkname").unwrap_or_else(|| "call".into());
    let namespace = checkname
        .split_once('.')
        .map_or_else(String::new, |(n, _)| n.to_string());
    let mut ctx = Context {
        taskdir: taskdir.clone(),
        workdir: workdir.clone(),
        artifactsdir: artifactsdir.clone(),
        env: crate::taskenv::inherited(std::env::vars_os(), &[]),
        timeout: setup.timeout,
        stdout,
        stderr,
        roots: std::sync::Arc::new(taskotron_beneath::Roots::new(roots)),
        python: setup.python.clone(),
        item,
        item_type: arg("type").unwrap_or_else(|| "koji_build".into()),
        checkname,
        namespace,
        exit_code: None,
        arch: arg("arch").unwrap_or_else(|| "noarch".into()),
        run_id: arg("uuid").unwrap_or_else(|| "call".into()),
        build_id: arg("jobid"),
        reporting: setup.reporting.clone(),
        services: setup.services.clone(),
        exit_ok: None,
        process_exit: None,
        stream_start: 0,
        cases: Vec::new(),
        warnings: Vec::new(),
        sandbox: None,
    };
    let params: directive::Params = request.params.clone().into_iter().collect();
    let value = directive.run(&params, &mut ctx);
    for f in [&mut out_read, &mut err_read] {
        let _ = f.rewind();
        let _ = f.read_to_string(output);
    }
    for w in &ctx.warnings {
        output.push_str(&format!("warning: {w}\n"));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_or_refused_with_the_reason() {
        let r =
            parse_request(r#"{"protocol": 1, "params": {"a": 1}, "arg_data": {"workdir": null}}"#)
                .unwrap();
        assert_eq!(r.params["a"], json!(1));
        assert!(parse_request("{}").unwrap().params.is_empty());
        let bad = |t: &str| parse_request(t).unwrap_err().to_string();
        assert!(bad("[1]").contains("expected a JSON object"));
        assert!(bad(r#"{"protocol": 2}"#).contains("protocol 2 is not spoken here"));
        assert!(bad(r#"{"params": [1]}"#).contains("`params` is a list, expected an object"));
        assert!(bad(r#"{"parms": {}}"#).contains("unknown key `parms`"));
        assert!(bad("{\n\"params\": ").contains("line 2"));
        let e = find("kji").map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("did you mean `koji`?"), "{e}");
    }

    #[test]
    fn a_directive_answers_its_value_or_the_exception_the_original_raised() {
        let dir = tempfile::tempdir().unwrap();
        let setup = Setup {
            services: Services::default(),
            reporting: crate::resultsdb::Reporting::default(),
            python: "python3".into(),
            timeout: Duration::from_secs(10),
        };
        let dummy = find("dummy").unwrap();
        let ok = parse_request(r#"{"params": {"result": "PASS", "msg": "fine"}}"#).unwrap();
        let a = call(dummy, &ok, &setup, dir.path());
        assert_eq!(a.answer["protocol"], json!(1));
        assert!(a.answer.get("error").is_none(), "{}", a.answer);
        let failing = parse_request(r#"{"params": {"result": "FAIL", "msg": "no"}}"#).unwrap();
        let a = call(dummy, &failing, &setup, dir.path());
        assert_eq!(
            a.answer["error"]["type"],
            json!("TaskotronDirectiveError"),
            "{}",
            a.answer
        );
        assert!(a.answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no"));
        // Paths the task did not give are refused as a formula's are.
        let koji = find("koji").unwrap();
        let outside = parse_request(
            r#"{"params": {"action": "download", "koji_build": "a-1-1.fc41", "arch": ["x86_64"], "target_dir": "../../elsewhere"}}"#,
        )
        .unwrap();
        let a = call(koji, &outside, &setup, dir.path());
        assert_eq!(
            a.answer["error"]["failure"],
            json!("PATH_REFUSED"),
            "{}",
            a.answer
        );
    }
}
