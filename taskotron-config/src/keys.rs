//! The one table of configuration keys: name, what it holds and how its
//! environment variable reads. The file parser's suggestions, `TASKOTRON_<KEY>`
//! for every key, the unknown-variable warning, `taskotron config`'s listing and
//! the README check all come from it; a test fails when it and `Config` drift
//! apart. *Invariant: no I/O.*

use taskotron_tap::diagnostic::Diagnostic;
use taskotron_tap::suggest::did_you_mean;

/// How a key's environment variable is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One value, read as a YAML scalar (`8`, `true`, `30s`, `/path`).
    Scalar,
    /// A list: comma-separated (`x86_64,aarch64`), or YAML flow (`[a, b]`).
    List,
    /// A mapping or a list of mappings, as YAML flow (`{rpmlint: /srv/rpmlint}`).
    Flow,
}

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The name in `taskotron.yaml`.
    pub name: &'static str,
    /// How `TASKOTRON_<NAME>` is read.
    pub shape: Shape,
    /// One line for people.
    pub doc: &'static str,
}

const fn key(name: &'static str, shape: Shape, doc: &'static str) -> Key {
    Key { name, shape, doc }
}

use Shape::{Flow, List, Scalar};

/// Every key, in the order `taskotron config` lists them.
pub const KEYS: &[Key] = &[
    key("profile", Scalar, "development | production | testing"),
    key(
        "artifacts",
        Scalar,
        "where run directories (<artifacts>/<run_id>/) are created",
    ),
    key(
        "tmpdir",
        Scalar,
        "where each run's scratch directory (<tmpdir>/<run_id>/) is created",
    ),
    key(
        "action_timeout",
        Scalar,
        "timeout of an action that sets none",
    ),
    key("python", Scalar, "the interpreter of the python directive"),
    key(
        "task_env",
        List,
        "variables a task may see besides PATH, LANG, LC_* and TZ",
    ),
    key("supported_arches", List, "what the arch `all` means"),
    key(
        "state_dir",
        Scalar,
        "the spool, the queue, the mirrors and the cache",
    ),
    key(
        "resultsdb_url",
        Scalar,
        "ResultsDB's API; none: results are only written to the artifacts",
    ),
    key(
        "resultsdb_testcase_ref_url",
        Scalar,
        "a testcase's ref_url, `{testcase}` filled in",
    ),
    key(
        "resultsdb_extra_outcomes",
        List,
        "outcomes the ResultsDB accepts beyond PASSED, INFO, FAILED, NEEDS_INSPECTION",
    ),
    key("resultsdb_username", Scalar, "ResultsDB basic-auth user"),
    key(
        "resultsdb_password",
        Scalar,
        "ResultsDB basic-auth password (never shown)",
    ),
    key(
        "resultsdb_token",
        Scalar,
        "ResultsDB bearer token (never shown)",
    ),
    key(
        "artifacts_base_url",
        Scalar,
        "where run directories are published, for log URLs",
    ),
    key(
        "job_url_template",
        Scalar,
        "a job's page, `{build_id}` filled in",
    ),
    key(
        "web_url",
        Scalar,
        "where taskotron's web server answers; the default base of artifact and job URLs",
    ),
    key(
        "report_deadline",
        Scalar,
        "how long a whole delivery to ResultsDB may take",
    ),
    key("report_concurrency", Scalar, "results sent at once"),
    key(
        "bodhi_url",
        Scalar,
        "Bodhi, for comments (and downloads when set)",
    ),
    key("bodhi_user", Scalar, "the Bodhi user comments are made as"),
    key(
        "bodhi_token",
        Scalar,
        "an OIDC access token for Bodhi (never shown)",
    ),
    key(
        "bodhi_comment_span",
        Scalar,
        "minutes before an unchanged FAILED is said again",
    ),
    key(
        "trigger_window",
        Scalar,
        "identical jobs within it are dropped",
    ),
    key("blacklist_releases", List, "dist tags never scheduled"),
    key(
        "amqp_queue",
        Scalar,
        "the durable queue `trigger --from amqp://` consumes",
    ),
    key("amqp_prefetch", Scalar, "unacknowledged messages at a time"),
    key("amqp_ca_cert", Scalar, "CA certificate (PEM) for amqps://"),
    key(
        "amqp_client_cert",
        Scalar,
        "client certificate (PEM) for amqps://",
    ),
    key("amqp_client_key", Scalar, "client key (PEM) for amqps://"),
    key("tasks", Flow, "task name -> directory or git URL#ref"),
    key(
        "task_path",
        List,
        "directories holding <name>/ task directories",
    ),
    key(
        "queue_wait",
        Scalar,
        "how long a command waits for another's lock on the queue",
    ),
    key(
        "worker_lease",
        Scalar,
        "how long a claimed job is a worker's without renewal",
    ),
    key("max_attempts", Scalar, "runs of a job before it is CRASHED"),
    key(
        "retry_delay",
        Scalar,
        "before another attempt of a run infrastructure stopped",
    ),
    key("job_timeout", Scalar, "how long one job may run"),
    key(
        "mirror_interval",
        Scalar,
        "a task repository is fetched at most this often",
    ),
    key(
        "buildbot_workers",
        Flow,
        "Buildbot workers: [{name, arch}, ...]",
    ),
    key(
        "buildbot_web",
        Scalar,
        "the Buildbot master's web port (a Twisted endpoint)",
    ),
    key(
        "buildbot_pb",
        Scalar,
        "the Buildbot master's worker port (a Twisted endpoint)",
    ),
    key("buildbot_url", Scalar, "the Buildbot master's URL"),
    key(
        "buildbot_mirror",
        Scalar,
        "where Buildbot workers fetch tasks: <mirror>/<task>.git",
    ),
    key("koji_url", Scalar, "Koji's XML-RPC hub"),
    key("koji_pkgs_url", Scalar, "Koji's package file server"),
    key(
        "bodhi_api_url",
        Scalar,
        "Bodhi for downloads (bodhi_url wins when set)",
    ),
    key("distgit_url", Scalar, "dist-git, for the distgit directive"),
    key(
        "ansible_playbook",
        Scalar,
        "ansible-playbook for playbook tasks (unset: a pinned ansible-core, installed on first use)",
    ),
    key(
        "tools_dir",
        Scalar,
        "where tools fetched on first use go (unset: <state_dir>/cache/tools)",
    ),
    key(
        "gating_policies",
        Scalar,
        "a Greenwave policy file or a directory of them, for decide and /api/v1.0/decision",
    ),
    key(
        "ci_messages_url",
        Scalar,
        "AMQP broker for Fedora CI messages of each job (unset: none published)",
    ),
    key("ci_messages_prefix", Scalar, "the CI messages' topic prefix"),
    key(
        "ci_messages_namespace",
        Scalar,
        "the CI messages' test.namespace",
    ),
    key("ci_contact_team", Scalar, "the CI messages' contact.team"),
    key("ci_contact_docs", Scalar, "the CI messages' contact.docs"),
    key("ci_contact_email", Scalar, "the CI messages' contact.email"),
    key(
        "sti_checkname",
        Scalar,
        "ResultsDB name of an STI suite's result",
    ),
    key(
        "tmt_checkname",
        Scalar,
        "ResultsDB name of a tmt plan's result ({artifact}, {plan})",
    ),
    key(
        "download_cache",
        Scalar,
        "keep verified downloads in <state_dir>/cache",
    ),
    key(
        "download_timeout",
        Scalar,
        "one remote call or one file transfer",
    ),
    key(
        "namespaces",
        Scalar,
        "a namespaces.yaml: who may report into which namespace",
    ),
    key(
        "install_rpms",
        Scalar,
        "`no` | `dnf`: install missing environment.rpm packages",
    ),
    key(
        "yumrepoinfo",
        Scalar,
        "the yumrepoinfo.conf of the yumrepoinfo directive",
    ),
    key(
        "isolation",
        Scalar,
        "`none` | `sandbox` (bubblewrap); unset: `none` for `run`, `sandbox` for jobs",
    ),
    key(
        "allow_network",
        Scalar,
        "whether a formula may ask for network (`environment.network: true`)",
    ),
    key(
        "sandbox_paths",
        List,
        "host paths a sandbox shows read-only besides /usr and the task",
    ),
    key(
        "sandbox_memory",
        Scalar,
        "address space of each sandboxed process (`8 GiB`); null: no limit",
    ),
    key(
        "sandbox_processes",
        Scalar,
        "processes a sandbox may have at once; null: no limit",
    ),
    key(
        "sandbox_open_files",
        Scalar,
        "open files of each sandboxed process; null: no limit",
    ),
    key(
        "sandbox_file_size",
        Scalar,
        "largest file a sandboxed process may write (`4 GiB`); null: no limit",
    ),
    key(
        "sandbox_disk",
        Scalar,
        "what a sandboxed run's workdir and artifacts may hold (`20 GiB`); null: no limit",
    ),
    key(
        "remote",
        Scalar,
        "`user@host[:port]`: run tasks on that machine over SSH; unset: this machine",
    ),
    key(
        "ssh_privkey",
        Scalar,
        "the private key for `remote` (`ssh -i`); unset: what ssh picks",
    ),
    key(
        "ssh_config",
        Scalar,
        "an ssh_config(5) file for remote runs; unset: ~/.ssh/config",
    ),
    key(
        "ssh_known_hosts",
        Scalar,
        "a known_hosts file for remote runs; unset: the user's; unknown hosts are refused",
    ),
];

/// The key names, for suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name)
}

/// The environment variable of `key`: `TASKOTRON_<KEY>`.
pub fn env_var(key: &str) -> String {
    format!("TASKOTRON_{}", key.to_ascii_uppercase())
}

/// `TASKOTRON_*` variables taskotron reads that are not keys: the config file,
/// and the run variables a worker hands its child run or a task sees.
fn other_known(name: &str) -> bool {
    name == "TASKOTRON_CONFIG"
        || name == EXECUTABLE_VAR
        || name == CALL_SOCKET_VAR
        || taskotron_model::taskenv::RUN_VARIABLES.contains(&name)
}

/// The variable that names the taskotron binary to the Python a playbook task
/// runs (`libtaskotron.directives` calls it), when it is not `taskotron` on PATH.
pub const EXECUTABLE_VAR: &str = "TASKOTRON_EXECUTABLE";

/// The variable that gives a run's processes the socket its directives are
/// served on (`taskotron_core::call::Server`).
pub const CALL_SOCKET_VAR: &str = "TASKOTRON_CALL_SOCKET";

/// A warning for each `TASKOTRON_*` variable in `names` that taskotron does not
/// read, with a suggestion for a near miss (`TASKOTRON_PYTHN`).
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Diagnostic> {
    let known: Vec<String> = KEYS
        .iter()
        .map(|k| env_var(k.name))
        .chain(std::iter::once("TASKOTRON_CONFIG".to_string()))
        .chain(
            taskotron_model::taskenv::RUN_VARIABLES
                .iter()
                .map(|s| s.to_string()),
        )
        .collect();
    let mut warnings = Vec::new();
    for name in names {
        if !name.starts_with("TASKOTRON_") || other_known(name) || known.iter().any(|k| k == name) {
            continue;
        }
        let mut d = Diagnostic::warning(format!(
            "${name} is not a taskotron variable; it is ignored"
        ))
        .expected("TASKOTRON_<KEY> for a config key (`taskotron config` lists them)");
        if let Some(near) = did_you_mean(name, known.iter().map(String::as_str)) {
            d = d.help(format!("did you mean ${near}?"));
        }
        warnings.push(d);
    }
    warnings
}

/// The value a variable's text stands for, as the file would hold it.
///
/// # Errors
/// Flow text (a mapping, a list of mappings) that is not YAML.
pub fn env_value(key: &Key, text: &str) -> Result<serde_norway::Value, String> {
    use serde_norway::Value;
    let flow =
        |t: &str| serde_norway::from_str::<Value>(t).map_err(|e| format!("`{t}` is not YAML: {e}"));
    match key.shape {
        Shape::Flow => flow(text),
        Shape::List if text.trim_start().starts_with('[') => flow(text),
        Shape::List => Ok(Value::Sequence(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )),
        // A scalar as YAML reads it (numbers, booleans), else as text.
        Shape::Scalar => Ok(match serde_norway::from_str::<Value>(text) {
            Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
            _ => Value::String(text.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_are_warned_with_a_suggestion() {
        let w = unknown_variables([
            "TASKOTRON_PYTHN",
            "TASKOTRON_PYTHON",
            "TASKOTRON_CONFIG",
            "TASKOTRON_BUILD_ID",
            "HOME",
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("$TASKOTRON_PYTHN"));
        assert_eq!(
            w[0].help.as_deref(),
            Some("did you mean $TASKOTRON_PYTHON?")
        );
    }

    #[test]
    fn variables_read_as_the_file_would_hold_them() {
        use serde_norway::Value;
        let k = |n: &str| *KEYS.iter().find(|k| k.name == n).unwrap();
        assert_eq!(env_value(&k("max_attempts"), "5").unwrap(), Value::from(5));
        assert_eq!(
            env_value(&k("download_cache"), "false").unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            env_value(&k("python"), "python3.12").unwrap(),
            Value::from("python3.12")
        );
        assert_eq!(
            env_value(&k("install_rpms"), "no").unwrap(),
            Value::from("no")
        );
        assert_eq!(
            env_value(&k("supported_arches"), "x86_64, aarch64").unwrap(),
            Value::Sequence(vec!["x86_64".into(), "aarch64".into()])
        );
        assert!(env_value(&k("tasks"), "{a: [").is_err());
    }
}
