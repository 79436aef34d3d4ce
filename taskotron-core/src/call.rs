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
//!
//! Inside a run, the same requests go to a [`Server`] on a Unix socket in the
//! run's workdir (`TASKOTRON_CALL_SOCKET`), so the directive runs in the runner
//! and not in the task's sandbox.

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
    /// The directive, when the request names it (on a run's socket).
    pub directive: Option<String>,
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
    let doc: Value = serde_json::from_str(text).map_err(|e| CallError::Request(e.to_string()))?;
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
    let directive = match doc.remove("directive") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(CallError::Request(format!(
                "`directive` is {}, expected a name",
                kind(&other)
            )))
        }
    };
    if let Some(k) = doc.keys().find(|k| *k != "protocol") {
        return Err(CallError::Request(format!(
            "unknown key `{k}` (expected `protocol`, `directive`, `params` and `arg_data`)"
        )));
    }
    Ok(Request {
        directive,
        params,
        arg_data,
    })
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

/// The directories a call reads and writes beneath, and who it is for.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// Where relative paths resolve.
    pub taskdir: PathBuf,
    /// The workdir; none: a scratch directory for the call, removed after it.
    pub workdir: Option<PathBuf>,
    /// The artifacts directory; none: the workdir.
    pub artifactsdir: Option<PathBuf>,
    /// Other directories paths may lie beneath (a run's `TMPDIR`).
    pub also: Vec<PathBuf>,
    /// Whether an absolute `target_dir` is a directory of its own: so for a
    /// caller run by hand, whose directories these all are; never for calls
    /// from a run, which stay beneath the run's.
    pub any_target: bool,
    /// The item, type, arch, checkname, run id and build id when `arg_data`
    /// does not say.
    pub defaults: Map<String, Value>,
}

impl Place {
    /// The place of a call run by hand in `cwd`: `arg_data`'s `taskdir`,
    /// `workdir` and `artifactsdir` (relative to `cwd`), and any absolute
    /// `target_dir` (the caller is the task itself: these are its own).
    pub fn of_request(request: &Request, cwd: &Path) -> Self {
        let absolute = |k: &str| {
            request
                .arg_data
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|p| cwd.join(p))
        };
        Self {
            taskdir: absolute("taskdir").unwrap_or_else(|| cwd.to_path_buf()),
            workdir: absolute("workdir"),
            artifactsdir: absolute("artifactsdir"),
            also: Vec::new(),
            any_target: true,
            defaults: Map::new(),
        }
    }
}

/// Runs `directive` for `request` at `place` and answers.
pub fn call(
    directive: &'static dyn directive::Directive,
    request: &Request,
    setup: &Setup,
    place: &Place,
) -> Answered {
    let mut output = String::new();
    let answer = match run(directive, request, setup, place, &mut output) {
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
    place: &Place,
    output: &mut String,
) -> Result<Value, Failure> {
    let arg = |k: &str| {
        request
            .arg_data
            .get(k)
            .or_else(|| place.defaults.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let beneath = |e: taskotron_beneath::Error| Failure::new(e.to_string());
    let scratch = tempfile::Builder::new()
        .prefix("taskotron-call-")
        .tempdir()
        .map_err(|e| Failure::new(format!("cannot create a workdir: {e}")))?;
    let workdir = place
        .workdir
        .clone()
        .unwrap_or_else(|| scratch.path().to_path_buf());
    let artifactsdir = place
        .artifactsdir
        .clone()
        .unwrap_or_else(|| workdir.clone());
    for d in [&workdir, &artifactsdir] {
        std::fs::create_dir_all(d)
            .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", d.display())))?;
    }
    let open = |d: &Path| taskotron_beneath::Dir::open(d).map_err(beneath);
    let mut roots = vec![
        ("the task directory", open(&place.taskdir)?),
        ("the workdir", open(&workdir)?),
        ("the artifacts directory", open(&artifactsdir)?),
    ];
    for d in &place.also {
        roots.push(("the run's temporary directory", open(d)?));
    }
    if let Some(target) = request
        .params
        .get("target_dir")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .filter(|p| place.any_target && p.is_absolute())
    {
        std::fs::create_dir_all(&target).map_err(|e| {
            Failure::new(format!(
                "target_dir: cannot create `{}`: {e}",
                target.display()
            ))
        })?;
        roots.push(("the target directory", open(&target)?));
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
        taskdir: place.taskdir.clone(),
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
        partial: None,
        keep_scratch: false,
        so_far: crate::history::SoFar::default(),
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

/// Serves calls from a run's processes on a Unix socket, so that the
/// directives a task's Python calls run here, in the runner, as a formula's do
/// (with its network and configuration, outside the sandbox, beneath the run's
/// directories only), whatever the task process may reach. A connection sends
/// one request (`directive` naming the directive) and reads one answer, with
/// the directive's output in `output`. Dropping the server stops it.
pub struct Server {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl Server {
    /// Listens on `path` (created; removed when the server stops).
    ///
    /// # Errors
    /// The socket cannot be made.
    pub fn start(path: &Path, setup: Setup, place: Place) -> std::io::Result<Self> {
        use std::io::Write as _;
        let _ = std::fs::remove_file(path);
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let mut text = String::new();
                let _ = (&conn).take(64 << 20).read_to_string(&mut text);
                let answer = match parse_request(&text).and_then(|r| {
                    let name = r.directive.clone().unwrap_or_default();
                    find(&name).map(|d| (d, r))
                }) {
                    Ok((d, r)) => {
                        let a = call(d, &r, &setup, &place);
                        let mut answer = a.answer;
                        answer["output"] = json!(a.output);
                        answer
                    }
                    Err(e) => json!({"protocol": PROTOCOL, "error": {
                        "type": "TaskotronDirectiveError",
                        "message": e.to_string(),
                        "failure": null,
                    }}),
                };
                let _ = writeln!(conn, "{answer}");
            }
        });
        Ok(Self {
            stop,
            thread: Some(thread),
            path: path.to_path_buf(),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
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
        let a = call(dummy, &ok, &setup, &Place::of_request(&ok, dir.path()));
        assert_eq!(a.answer["protocol"], json!(1));
        assert!(a.answer.get("error").is_none(), "{}", a.answer);
        let failing = parse_request(r#"{"params": {"result": "FAIL", "msg": "no"}}"#).unwrap();
        let a = call(
            dummy,
            &failing,
            &setup,
            &Place::of_request(&failing, dir.path()),
        );
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
        let a = call(
            koji,
            &outside,
            &setup,
            &Place::of_request(&outside, dir.path()),
        );
        assert_eq!(
            a.answer["error"]["failure"],
            json!("PATH_REFUSED"),
            "{}",
            a.answer
        );
    }
}
