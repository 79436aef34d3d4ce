//! Taskotron's configuration: `taskotron.yaml`, found in the usual places, with
//! `TASKOTRON_*` environment overrides on top and embedded defaults under
//! everything.
//!
//! **Invariant: this crate is at the bottom of the pipeline and knows no
//! component.** It parses and checks one key table ([`keys::KEYS`]) into
//! [`Config`]; each component owns its settings type, and the binary's composition
//! root (`taskotron-cli`'s `wiring`) builds them from a `Config`. A change in the
//! runner, the trigger or the queue therefore never recompiles this crate, and a
//! tidy test (`tests/tests/invariants.rs`) fails when it grows a dependency on
//! another workspace crate than `taskotron-tap` and `taskotron-model`. Its only I/O
//! is reading the configuration file it is asked to read.
//!
//! Lookup order for the file: `--config`, `$TASKOTRON_CONFIG`,
//! `$XDG_CONFIG_HOME/taskotron/taskotron.yaml` (or `~/.config/...`), then
//! `/etc/taskotron/taskotron.yaml`. The environment is passed in as a function, so
//! the lookup is testable without touching the process environment.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use taskotron_model::arch::Arch;
use taskotron_tap::diagnostic::{Diagnostic, Location};
use taskotron_tap::suggest::did_you_mean;

/// Which set of defaults a deployment uses (the original's profiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// A task author's machine: nothing is reported anywhere.
    #[default]
    Development,
    /// A service: results are reported.
    Production,
    /// The test suite.
    Testing,
}

/// The configuration every command reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Deployment profile.
    pub profile: Profile,
    /// Where run directories (`<artifacts>/<run_id>/`) are created.
    pub artifacts: PathBuf,
    /// Where each run's scratch `workdir` is created.
    pub tmpdir: PathBuf,
    /// Timeout of an action that sets none, in seconds or as `20m`.
    #[serde(with = "duration_text")]
    pub action_timeout: Duration,
    /// The Python interpreter for the `python` directive.
    pub python: String,
    /// Variables of the caller's environment a task may see besides `PATH`, `LANG`,
    /// `LC_*` and `TZ` (names, or prefixes ending in `*`; never `TASKOTRON_*`).
    pub task_env: Vec<taskotron_model::taskenv::Pattern>,
    /// What `all` means for arches.
    pub supported_arches: Vec<Arch>,
    /// Where durable state lives (the result spool).
    pub state_dir: PathBuf,
    /// ResultsDB (its URL or `.../api/v2.0`); without it results are not sent, and
    /// the payloads are written into the run's artifacts instead.
    pub resultsdb_url: Option<String>,
    /// A testcase's documentation URL; `{testcase}` becomes its name.
    pub resultsdb_testcase_ref_url: Option<String>,
    /// Outcomes this ResultsDB accepts besides PASSED, INFO, FAILED, NEEDS_INSPECTION.
    pub resultsdb_extra_outcomes: Vec<taskotron_tap::results::Outcome>,
    /// HTTP Basic user for a ResultsDB behind an authenticating proxy.
    pub resultsdb_username: Option<String>,
    /// Its password (never shown).
    #[serde(skip_serializing)]
    pub resultsdb_password: Option<String>,
    /// A bearer token instead (never shown).
    #[serde(skip_serializing)]
    pub resultsdb_token: Option<String>,
    /// Where artifacts are published: `<artifacts_base_url>/<run_id>/<file>`.
    pub artifacts_base_url: Option<String>,
    /// A job's URL; `{build_id}` and `{run_id}` are filled in.
    pub job_url_template: Option<String>,
    /// Where taskotron's own web server answers (`serve --http`, `web`); when set,
    /// `artifacts_base_url` defaults to `<web_url>/artifacts` and `job_url_template`
    /// to `<web_url>/jobs/{build_id}`.
    pub web_url: Option<String>,
    /// How long reporting retries before leaving results in the spool.
    #[serde(with = "duration_text")]
    pub report_deadline: Duration,
    /// Results in flight at once.
    pub report_concurrency: usize,
    /// Bodhi, for `bodhi_comment`; without it the comments are written into the
    /// artifacts instead.
    pub bodhi_url: Option<String>,
    /// The Bodhi user Taskotron comments as.
    pub bodhi_user: String,
    /// The OIDC access token of that user (never shown).
    #[serde(skip_serializing)]
    pub bodhi_token: Option<String>,
    /// Minutes before an unchanged FAILED is commented again.
    pub bodhi_comment_span: u64,
    /// The trigger drops an identical job within this window (the original `fuse_delay`).
    #[serde(with = "duration_text")]
    pub trigger_window: Duration,
    /// Releases (dist tags such as `el6`) the trigger never schedules jobs for.
    pub blacklist_releases: Vec<String>,
    /// The durable AMQP queue the trigger consumes from (Fedora's public broker wants
    /// a UUID here).
    pub amqp_queue: String,
    /// Messages the broker may hand the trigger before it acknowledges any.
    pub amqp_prefetch: u16,
    /// The CA certificate (PEM) of an `amqps://` broker (needs the `amqp-tls` feature).
    pub amqp_ca_cert: Option<PathBuf>,
    /// The client certificate (PEM) for the EXTERNAL mechanism.
    pub amqp_client_cert: Option<PathBuf>,
    /// Its private key (PEM, PKCS#8).
    pub amqp_client_key: Option<PathBuf>,
    /// Task names and where each task is: a directory with its formula, or a git
    /// repository `URL[#REF]` (run from the mirror).
    pub tasks: std::collections::BTreeMap<String, String>,
    /// Directories searched for `<taskname>/` when `tasks` does not name a task.
    pub task_path: Vec<PathBuf>,
    /// How long a command waits for the queue's lock while another process holds it
    /// before it gives up (it says it is waiting after a second).
    #[serde(with = "duration_text")]
    pub queue_wait: Duration,
    /// How long a worker's claim on a job lasts unless renewed (it renews at a third).
    #[serde(with = "duration_text")]
    pub worker_lease: Duration,
    /// Claims of a job before a worker that keeps dying makes it CRASHED; also the
    /// attempts a run stopped by an infrastructure failure gets.
    pub max_attempts: u32,
    /// How long a run stopped by an infrastructure failure waits before its next
    /// attempt, times the attempts so far.
    #[serde(with = "duration_text")]
    pub retry_delay: Duration,
    /// How long a job may run before it is killed and CRASHED (timeout).
    #[serde(with = "duration_text")]
    pub job_timeout: Duration,
    /// A task repository's mirror is fetched from upstream at most this often.
    #[serde(with = "duration_text")]
    pub mirror_interval: Duration,
    /// Buildbot workers (`{name, arch}`); by default one per supported arch, named
    /// after it.
    pub buildbot_workers: Vec<taskotron_model::WorkerSpec>,
    /// Where the Buildbot master's web UI and REST API listen.
    pub buildbot_web: String,
    /// Where Buildbot workers connect to the master.
    pub buildbot_pb: String,
    /// The Buildbot master's URL.
    pub buildbot_url: String,
    /// The task mirror Buildbot workers clone from: `<buildbot_mirror>/<taskname>.git`.
    pub buildbot_mirror: String,
    /// Koji's XML-RPC hub, for the `koji` and `bodhi` directives.
    pub koji_url: String,
    /// Koji's package file server (koji's `topurl`).
    pub koji_pkgs_url: String,
    /// Bodhi's API for the `bodhi` directive's downloads (`bodhi_url` is for
    /// comments and, when set, is used here too).
    pub bodhi_api_url: String,
    /// Dist-git, for the `distgit` directive.
    pub distgit_url: String,
    /// The ResultsDB name of each tmt plan's result (`{artifact}`: `koji-build`,
    /// `bodhi-update`, ...; `{plan}`: `/plans/smoke`), as Fedora CI names them.
    pub tmt_checkname: String,
    /// The ResultsDB name of each STI suite's result (`tests/tests.yml`), as
    /// Fedora CI named it.
    pub sti_checkname: String,
    /// The `ansible-playbook` playbook tasks run; unset: a pinned ansible-core
    /// installed on first use into `<state_dir>/cache/tools`.
    pub ansible_playbook: Option<String>,
    /// Where taskotron installs the tools it fetches on first use (ansible-core);
    /// unset: `<state_dir>/cache/tools`.
    pub tools_dir: Option<PathBuf>,
    /// Greenwave policies (`--- !Policy` YAML): a file, or a directory whose
    /// `*.yaml` files are read in name order; what `taskotron decide` and
    /// `/api/v1.0/decision` gate with. Unset: no policies (every decision is 404).
    pub gating_policies: Option<PathBuf>,
    /// The AMQP broker Fedora CI messages (`<prefix>.koji-build.test.*`) are
    /// published to, as each job is queued, runs and ends; unset: none are.
    pub ci_messages_url: Option<String>,
    /// The messages' topic prefix.
    pub ci_messages_prefix: String,
    /// Their `test.namespace` (resultsdb-updater names the result
    /// `<namespace>.<task>.functional`).
    pub ci_messages_namespace: String,
    /// Their `contact.team`.
    pub ci_contact_team: String,
    /// Their `contact.docs`.
    pub ci_contact_docs: String,
    /// Their `contact.email`.
    pub ci_contact_email: String,
    /// Whether verified downloads are kept in `<state_dir>/cache` between runs.
    pub download_cache: bool,
    /// How long one call to Koji, Bodhi or dist-git, or one file transfer, may take.
    #[serde(with = "duration_text")]
    pub download_timeout: Duration,
    /// A `namespaces.yaml` (`namespaces_safe`, `namespaces_whitelist`): which task
    /// repositories may report into which namespace. None: any namespace.
    pub namespaces: Option<PathBuf>,
    /// What to do with a formula's `environment.rpm` packages that are not
    /// installed: stop the run (`no`) or install them (`dnf`, for a disposable
    /// machine).
    pub install_rpms: InstallRpms,
    /// The `yumrepoinfo.conf` the `yumrepoinfo` directive reads.
    pub yumrepoinfo: Option<PathBuf>,
    /// How task processes are isolated; unset: `none` for a task author's `run`,
    /// `sandbox` for a worker's jobs ([`Config::isolation_for`]).
    pub isolation: Option<taskotron_model::Isolation>,
    /// Whether a formula may ask for network (`environment.network: true`).
    pub allow_network: bool,
    /// Host paths a sandbox shows read-only besides `/usr` and the task.
    pub sandbox_paths: Vec<PathBuf>,
    /// Address space of each sandboxed process.
    #[serde(with = "size_text")]
    pub sandbox_memory: Option<bytesize::ByteSize>,
    /// Processes a sandbox may have at once.
    pub sandbox_processes: Option<u64>,
    /// Open files of each sandboxed process.
    pub sandbox_open_files: Option<u64>,
    /// Largest file a sandboxed process may write.
    #[serde(with = "size_text")]
    pub sandbox_file_size: Option<bytesize::ByteSize>,
    /// What a sandboxed run's directories may hold on disk.
    #[serde(with = "size_text")]
    pub sandbox_disk: Option<bytesize::ByteSize>,
    /// The machine runs go to over SSH (`user@host[:port]`); unset: this machine.
    pub remote: Option<taskotron_model::SshTarget>,
    /// The private key for `remote` (`ssh -i`); unset: what ssh picks (its config,
    /// the agent, `~/.ssh/id_*`).
    pub ssh_privkey: Option<PathBuf>,
    /// An ssh_config(5) file for remote runs; unset: the user's `~/.ssh/config`.
    pub ssh_config: Option<PathBuf>,
    /// A known_hosts file for remote runs; unset: the user's. A host it does not
    /// know is refused, never added.
    pub ssh_known_hosts: Option<PathBuf>,
    /// The file this configuration was read from ([`Config::load`]): never shown in
    /// a sandbox. Not a key.
    #[serde(skip)]
    pub read_from: Option<PathBuf>,
}

/// Who a run is for, which decides its isolation when the config sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFor {
    /// A task author trying a task (`taskotron run`): `none`.
    Author,
    /// A job a worker took from the queue (`run-job`): `sandbox`.
    Job,
}

/// Whether missing `environment.rpm` packages are installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallRpms {
    /// A missing package stops the run with `RPM_MISSING`.
    #[default]
    No,
    /// `dnf install -y` them before the first action.
    Dnf,
}

pub mod check;
pub mod defaults;
pub mod home;
pub mod keys;

pub use keys::{Key, KEYS};

impl Config {
    /// The embedded job queue: `<state_dir>/queue.sqlite`.
    pub fn queue_path(&self) -> PathBuf {
        self.state_dir.join("queue.sqlite")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::defaults_from(&|k| std::env::var(k).ok())
    }
}

/// Sizes as people write them (`8 GiB`, `512 MiB`, a number of bytes), or null for
/// no limit; a bad one is named with what was expected.
mod size_text {
    use bytesize::ByteSize;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<ByteSize>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&b.display().iec().to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ByteSize>, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Option<ByteSize>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a size such as `8 GiB`, `512 MiB` or a number of bytes, or null")
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Some(ByteSize::b(n)))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n)
                    .map(|n| Some(ByteSize::b(n)))
                    .map_err(|_| E::custom(format!("{n} is not a size; a size is not negative")))
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Self::Value, E> {
                t.parse::<ByteSize>().map(Some).map_err(|_| {
                    E::custom(format!(
                        "`{t}` is not a size; expected one such as `8 GiB`, `512 MiB` or a number of bytes"
                    ))
                })
            }
        }
        d.deserialize_option(Visitor)
    }
}

mod duration_text {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        // A visitor rather than an untagged enum: the error is then raised at the
        // scalar, and the YAML deserializer can say where it is.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(taskotron_model::duration::EXPECTED)
            }
            fn visit_u64<E: serde::de::Error>(self, s: u64) -> Result<Duration, E> {
                taskotron_model::duration::check(Duration::from_secs(s))
                    .map_err(|e| E::custom(format!("{s}: {e}")))
            }
            fn visit_i64<E: serde::de::Error>(self, s: i64) -> Result<Duration, E> {
                match u64::try_from(s) {
                    Ok(s) => self.visit_u64(s),
                    Err(_) => Err(E::custom(
                        taskotron_model::duration::DurationError::NotPositive,
                    )),
                }
            }
            fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Duration, E> {
                super::parse_duration(t).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Config {
    /// The configuration as shown to people (`taskotron config`): secrets left out,
    /// and the password of any URL replaced by `***`.
    pub fn shown(&self) -> serde_json::Value {
        fn redact(v: serde_json::Value) -> serde_json::Value {
            use serde_json::Value;
            match v {
                Value::String(s) => Value::String(taskotron_model::redact::in_text(&s)),
                Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
                Value::Object(map) => {
                    Value::Object(map.into_iter().map(|(k, v)| (k, redact(v))).collect())
                }
                other => other,
            }
        }
        redact(serde_json::to_value(self).unwrap_or_default())
    }
}

impl Loaded {
    /// [`Config::shown`], with where it came from.
    pub fn shown(&self) -> serde_json::Value {
        serde_json::json!({
            "config": self.config.shown(),
            "file": self.file,
            "env_overrides": self.env_overrides,
            "sources": self.sources,
        })
    }
}

impl Config {
    /// The outcomes the configured ResultsDB accepts.
    pub fn resultsdb_outcomes(&self) -> Vec<taskotron_tap::results::Outcome> {
        use taskotron_tap::results::Outcome;
        let mut all = vec![
            Outcome::Passed,
            Outcome::Info,
            Outcome::Failed,
            Outcome::NeedsInspection,
        ];
        all.extend(self.resultsdb_extra_outcomes.iter().copied());
        all
    }

    /// The isolation of a run for `who`: the config's, else `none` for an author and
    /// `sandbox` for a job.
    pub fn isolation_for(&self, who: RunFor) -> taskotron_model::Isolation {
        self.isolation.unwrap_or(match who {
            RunFor::Author => taskotron_model::Isolation::None,
            RunFor::Job => taskotron_model::Isolation::Sandbox,
        })
    }
}

/// Parses `90`, `90s`, `20m`, `1h 30m`, bounded (see [`taskotron_model::duration`]).
///
/// # Errors
/// Says what a duration looks like.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    taskotron_model::duration::parse_text(text)
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named explicitly does not exist or cannot be read.
    #[error("cannot read config `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file or an environment override is invalid.
    #[error("{}", .0.message)]
    Invalid(Box<Diagnostic>),
    /// Several keys of the file, or several variables, are invalid: every one is
    /// said at once (never empty).
    #[error("{}", .0.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("; "))]
    Problems(Vec<Diagnostic>),
}

impl ConfigError {
    /// The first problem as a diagnostic for rendering.
    pub fn diagnostic(&self) -> Diagnostic {
        self.diagnostics().swap_remove(0)
    }

    /// Every problem, in file order, for rendering.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            ConfigError::Invalid(d) => vec![(**d).clone()],
            ConfigError::Problems(all) if !all.is_empty() => all.clone(),
            other => vec![Diagnostic::error(other.to_string())],
        }
    }
}

/// Where a key's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The embedded default.
    Default,
    /// The config file.
    File,
    /// Its `TASKOTRON_<KEY>` variable.
    Env,
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// The environment variables that overrode it.
    pub env_overrides: Vec<String>,
    /// Where each key's value came from, by key.
    pub sources: std::collections::BTreeMap<String, Source>,
}

impl Config {
    /// The embedded defaults, with directories placed per XDG using `env`.
    pub fn defaults_from(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let data = env("XDG_DATA_HOME")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                env("HOME")
                    .filter(|s| !s.is_empty())
                    .map(|h| Path::new(&h).join(".local/share"))
            });
        let artifacts = data.map_or_else(
            || std::env::temp_dir().join("taskotron/artifacts"),
            |d| d.join("taskotron/artifacts"),
        );
        let state = env("XDG_STATE_HOME")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                env("HOME")
                    .filter(|s| !s.is_empty())
                    .map(|h| Path::new(&h).join(".local/state"))
            })
            .map_or_else(
                || std::env::temp_dir().join("taskotron/state"),
                |d| d.join("taskotron"),
            );
        Self {
            profile: Profile::Development,
            artifacts,
            // Per user: a shared `/tmp/taskotron` made by one user refuses the next.
            tmpdir: std::env::temp_dir().join(format!("taskotron-{}", current_uid())),
            action_timeout: defaults::ACTION_TIMEOUT,
            python: "python3".into(),
            task_env: Vec::new(),
            supported_arches: vec![Arch::X86_64],
            state_dir: state,
            resultsdb_url: None,
            resultsdb_testcase_ref_url: None,
            resultsdb_extra_outcomes: Vec::new(),
            resultsdb_username: None,
            resultsdb_password: None,
            resultsdb_token: None,
            artifacts_base_url: None,
            job_url_template: None,
            web_url: None,
            report_deadline: Duration::from_secs(60),
            report_concurrency: 8,
            bodhi_url: None,
            bodhi_user: "taskotron".into(),
            bodhi_token: None,
            bodhi_comment_span: defaults::BODHI_COMMENT_SPAN_MINUTES,
            trigger_window: defaults::TRIGGER_WINDOW,
            blacklist_releases: Vec::new(),
            amqp_queue: "taskotron-trigger".into(),
            amqp_prefetch: 100,
            amqp_ca_cert: None,
            amqp_client_cert: None,
            amqp_client_key: None,
            tasks: std::collections::BTreeMap::new(),
            task_path: vec![PathBuf::from("tasks")],
            queue_wait: Duration::from_secs(30),
            worker_lease: Duration::from_secs(60),
            max_attempts: 3,
            retry_delay: Duration::from_secs(60),
            job_timeout: Duration::from_secs(4 * 3600),
            mirror_interval: Duration::from_secs(3600),
            buildbot_workers: Vec::new(),
            buildbot_web: "tcp:8010:interface=127.0.0.1".into(),
            buildbot_pb: "tcp:9989:interface=127.0.0.1".into(),
            buildbot_url: "http://127.0.0.1:8010/".into(),
            buildbot_mirror: "file:///srv/taskotron/tasks".into(),
            koji_url: "https://koji.fedoraproject.org/kojihub".into(),
            koji_pkgs_url: "https://kojipkgs.fedoraproject.org".into(),
            bodhi_api_url: "https://bodhi.fedoraproject.org".into(),
            distgit_url: "https://src.fedoraproject.org".into(),
            tmt_checkname: defaults::TMT_CHECKNAME.into(),
            sti_checkname: defaults::STI_CHECKNAME.into(),
            ansible_playbook: None,
            tools_dir: None,
            gating_policies: None,
            ci_messages_url: None,
            ci_messages_prefix: "org.centos.prod.ci".into(),
            ci_messages_namespace: "taskotron".into(),
            ci_contact_team: "Fedora QA".into(),
            ci_contact_docs: "https://fedoraproject.org/wiki/Taskotron".into(),
            ci_contact_email: "qa-devel@lists.fedoraproject.org".into(),
            download_cache: true,
            download_timeout: Duration::from_secs(300),
            namespaces: None,
            install_rpms: InstallRpms::No,
            yumrepoinfo: None,
            isolation: None,
            allow_network: true,
            sandbox_paths: Vec::new(),
            remote: None,
            ssh_privkey: None,
            ssh_config: None,
            ssh_known_hosts: None,
            sandbox_memory: Some(bytesize::ByteSize::gib(8)),
            sandbox_processes: Some(1024),
            sandbox_open_files: Some(1024),
            sandbox_file_size: Some(bytesize::ByteSize::gib(4)),
            sandbox_disk: Some(bytesize::ByteSize::gib(20)),
            read_from: None,
        }
    }

    /// The config files looked for, in order, when none is named.
    pub fn search_path(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(x) = env("XDG_CONFIG_HOME").filter(|s| !s.is_empty()) {
            paths.push(Path::new(&x).join("taskotron/taskotron.yaml"));
        } else if let Some(h) = env("HOME").filter(|s| !s.is_empty()) {
            paths.push(Path::new(&h).join(".config/taskotron/taskotron.yaml"));
        }
        paths.push(PathBuf::from("/etc/taskotron/taskotron.yaml"));
        paths
    }

    /// Loads the configuration: the file (`explicit`, `$TASKOTRON_CONFIG` or the first
    /// that exists on the search path), then `TASKOTRON_*` overrides.
    ///
    /// # Errors
    /// A named file that cannot be read, invalid YAML, an unknown key or a bad value.
    pub fn load(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Loaded, ConfigError> {
        let named = explicit.map(Path::to_path_buf).or_else(|| {
            env("TASKOTRON_CONFIG")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        });
        let file = match named {
            Some(p) => Some(p),
            None => Self::search_path(env).into_iter().find(|p| p.is_file()),
        };
        let text = match &file {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Some(taskotron_tap::diagnostic::utf8(bytes, path).map_err(ConfigError::Invalid)?)
            }
            None => None,
        };
        let source = text.as_deref().zip(file.as_deref());
        let mut loaded = Self::layered(source, env, true)?;
        loaded.config.read_from = file
            .as_deref()
            .map(std::path::absolute)
            .and_then(Result::ok);
        loaded.file = file;
        Ok(loaded)
    }

    /// Expands `~` and `$HOME` at the start of every path key (see [`home`]).
    ///
    /// # Errors
    /// A path that cannot be expanded, naming its key.
    fn expand_home(&mut self, h: Option<&str>) -> Result<(), home::HomeError> {
        use home::expand;
        self.artifacts = expand("artifacts", &self.artifacts, h)?;
        self.tmpdir = expand("tmpdir", &self.tmpdir, h)?;
        self.state_dir = expand("state_dir", &self.state_dir, h)?;
        for (key, value) in [
            ("amqp_ca_cert", &mut self.amqp_ca_cert),
            ("amqp_client_cert", &mut self.amqp_client_cert),
            ("amqp_client_key", &mut self.amqp_client_key),
            ("namespaces", &mut self.namespaces),
            ("yumrepoinfo", &mut self.yumrepoinfo),
            ("ssh_privkey", &mut self.ssh_privkey),
            ("ssh_config", &mut self.ssh_config),
            ("ssh_known_hosts", &mut self.ssh_known_hosts),
        ] {
            if let Some(p) = value {
                *p = expand(key, p, h)?;
            }
        }
        for (key, list) in [
            ("task_path", &mut self.task_path),
            ("sandbox_paths", &mut self.sandbox_paths),
        ] {
            for (i, p) in list.iter_mut().enumerate() {
                *p = expand(&format!("{key}[{i}]"), p, h)?;
            }
        }
        // Strings that are paths when they look like one of the home directory.
        let text = |key: &str, v: &str| -> Result<String, home::HomeError> {
            Ok(expand(key, Path::new(v), h)?.to_string_lossy().into_owned())
        };
        self.python = text("python", &self.python)?;
        for (name, place) in &mut self.tasks {
            *place = text(&format!("tasks.{name}"), place)?;
        }
        Ok(())
    }

    /// Parses config text; missing keys take the defaults.
    ///
    /// # Errors
    /// Invalid YAML, an unknown key or a bad value, pointing into the file.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::layered(Some((text, path)), env, false).map(|l| l.config)
    }

    /// Defaults, then the file, then (with `with_env`) every `TASKOTRON_<KEY>`,
    /// merged key by key and read once, so every key takes its variable the same
    /// way; with the variables used and each key's source.
    fn layered(
        file: Option<(&str, &Path)>,
        env: &dyn Fn(&str) -> Option<String>,
        with_env: bool,
    ) -> Result<Loaded, ConfigError> {
        use serde_norway::{Mapping, Value};
        let defaults = Self::defaults_from(env);
        let mut sources: std::collections::BTreeMap<String, Source> = KEYS
            .iter()
            .map(|k| (k.name.to_string(), Source::Default))
            .collect();
        let mut map = Mapping::new();
        let file = file.filter(|(text, _)| !text.trim().is_empty());
        if let Some((text, path)) = file {
            match serde_norway::from_str::<Value>(text).map_err(|e| invalid(&e, text, path))? {
                Value::Mapping(m) => {
                    for (k, _) in &m {
                        if let Some(name) = k.as_str() {
                            sources.insert(name.to_string(), Source::File);
                        }
                    }
                    map = m;
                }
                Value::Null => {}
                // Not a mapping: serde says so, with the position.
                _ => {
                    return Err(match serde_norway::from_str::<Config>(text) {
                        Err(e) => invalid(&e, text, path),
                        Ok(_) => ConfigError::Invalid(Box::new(Diagnostic::error(
                            "the config is not a mapping of keys",
                        ))),
                    })
                }
            }
        }
        // The XDG-derived defaults fill what the file leaves out, so `Default` is
        // not consulted with the real process environment.
        if let Ok(Value::Mapping(base)) = serde_norway::to_value(&defaults) {
            for (k, v) in base {
                map.entry(k).or_insert(v);
            }
        }
        let mut used = Vec::new();
        let mut bad_vars = Vec::new();
        if with_env {
            for key in KEYS {
                let var = keys::env_var(key.name);
                let Some(text) = env(&var).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let value = match keys::env_value(key, &text) {
                    Ok(v) => v,
                    Err(msg) => {
                        bad_vars.push(Diagnostic::error(format!("invalid ${var}: {msg}")));
                        continue;
                    }
                };
                // Checked alone first, so a bad value names its variable.
                let mut alone = Mapping::new();
                alone.insert(Value::from(key.name), value.clone());
                if let Err(e) = serde_norway::from_value::<Config>(Value::Mapping(alone)) {
                    let (d, _) = check::in_words(key.name, &e.to_string());
                    bad_vars.push(Diagnostic {
                        message: format!("invalid ${var}: {}", d.message),
                        ..d
                    });
                    continue;
                }
                map.insert(Value::from(key.name), value);
                sources.insert(key.name.to_string(), Source::Env);
                used.push(var);
            }
        }
        // Every problem at once: the file's keys, each read alone, then the
        // variables.
        let mut all = file.map_or_else(Vec::new, |(text, path)| check::problems(text, path));
        all.extend(bad_vars);
        if !all.is_empty() {
            return Err(ConfigError::Problems(all));
        }
        let config = serde_norway::from_value::<Config>(Value::Mapping(map)).map_err(|e| {
            // Re-read from the text for positions when the file is what is wrong.
            match file {
                Some((text, path)) => match serde_norway::from_str::<Config>(text) {
                    Err(located) => invalid(&located, text, path),
                    Ok(_) => invalid(&e, text, path),
                },
                None => ConfigError::Invalid(Box::new(Diagnostic::error(short_message(&e)))),
            }
        })?;
        let mut config = config;
        config.expand_home(env("HOME").as_deref()).map_err(|e| {
            ConfigError::Invalid(Box::new(
                Diagnostic::error(format!("invalid config: {e}"))
                    .help("`~` and `$HOME` at the start of a path are expanded from HOME"),
            ))
        })?;
        Ok(Loaded {
            config,
            file: None,
            env_overrides: used,
            sources,
        })
    }
}

/// serde's message without its position and its list of every key.
fn short_message(e: &serde_norway::Error) -> String {
    let message = e.to_string();
    let short = message.split(" at line ").next().unwrap_or(&message);
    short
        .split(", expected one of")
        .next()
        .unwrap_or(short)
        .to_string()
}

fn invalid(e: &serde_norway::Error, text: &str, path: &Path) -> ConfigError {
    let message = e.to_string();
    // serde_norway appends " at line L column C"; keep the message itself.
    let short = message.split(" at line ").next().unwrap_or(&message);
    // serde lists every key after an unknown one; the suggestion names the near
    // miss, and `taskotron config` shows them all.
    let short = short
        .split(", expected one of")
        .next()
        .unwrap_or(short)
        .to_string();
    let mut d = Diagnostic::error(format!("invalid config: {short}"));
    if let Some(loc) = e.location() {
        d = d.at(
            Some(path),
            text,
            Location {
                line: loc.line(),
                column: loc.column(),
            },
            1,
        );
    } else {
        d = d.in_file(path);
    }
    if let Some(field) = short
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        d = d.suggest(did_you_mean(field, keys::names()));
    }
    ConfigError::Invalid(Box::new(d))
}

/// The real user id of this process: the default scratch directory is per user.
pub fn current_uid() -> u32 {
    // SAFETY: getuid(2) has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_follow_xdg() {
        let c = Config::defaults_from(&env(&[("HOME", "/home/u")]));
        assert_eq!(
            c.artifacts,
            PathBuf::from("/home/u/.local/share/taskotron/artifacts")
        );
        let c = Config::defaults_from(&env(&[("XDG_DATA_HOME", "/d"), ("HOME", "/home/u")]));
        assert_eq!(c.artifacts, PathBuf::from("/d/taskotron/artifacts"));
        assert_eq!(c.action_timeout, Duration::from_secs(1200));
        // Scratch is per user, so a second user's run is not refused by the first's.
        assert_eq!(
            c.tmpdir,
            std::env::temp_dir().join(format!("taskotron-{}", current_uid()))
        );
    }

    #[test]
    fn home_in_paths_is_expanded_from_home_and_refused_where_it_cannot_be() {
        let vars = env(&[("HOME", "/home/qa")]);
        let c = Config::parse(
            "artifacts: ~/.local/share/taskotron/artifacts\ntask_path: [~/tasks, $HOME/more, rel]\nstate_dir: ${HOME}/s\nssh_privkey: ~/.ssh/id\npython: ~/.pyenv/shims/python3\n",
            Path::new("taskotron.yaml"),
            &vars,
        )
        .unwrap();
        assert_eq!(
            c.artifacts,
            PathBuf::from("/home/qa/.local/share/taskotron/artifacts")
        );
        assert_eq!(
            c.task_path,
            [
                PathBuf::from("/home/qa/tasks"),
                "/home/qa/more".into(),
                "rel".into()
            ]
        );
        assert_eq!(c.state_dir, PathBuf::from("/home/qa/s"));
        assert_eq!(c.ssh_privkey, Some(PathBuf::from("/home/qa/.ssh/id")));
        assert_eq!(c.python, "/home/qa/.pyenv/shims/python3");
        let e = Config::parse("tmpdir: ~bob/t\n", Path::new("taskotron.yaml"), &vars)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tmpdir: `~bob/t` names another user's home"),
            "{e}"
        );
        let e = Config::parse("tmpdir: ~/t\n", Path::new("taskotron.yaml"), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("HOME is not set"), "{e}");
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("taskotron.yaml");
        std::fs::write(
            &file,
            "artifacts: /a\naction_timeout: 5m\nsupported_arches: [x86_64, aarch64]\n",
        )
        .unwrap();
        let e = env(&[
            ("TASKOTRON_CONFIG", file.to_str().unwrap()),
            ("TASKOTRON_PYTHON", "python3.12"),
            ("HOME", "/h"),
        ]);
        let loaded = Config::load(None, &e).unwrap();
        assert_eq!(loaded.file.as_deref(), Some(file.as_path()));
        assert_eq!(loaded.config.artifacts, PathBuf::from("/a"));
        assert_eq!(loaded.config.action_timeout, Duration::from_secs(300));
        assert_eq!(loaded.config.python, "python3.12");
        assert_eq!(
            loaded.config.supported_arches,
            vec![Arch::X86_64, Arch::Aarch64]
        );
        assert_eq!(loaded.env_overrides, vec!["TASKOTRON_PYTHON".to_string()]);
        let e = env(&[
            ("TASKOTRON_ARTIFACTS", "/b"),
            ("XDG_CONFIG_HOME", dir.path().to_str().unwrap()),
        ]);
        let loaded = Config::load(Some(&file), &e).unwrap();
        assert_eq!(loaded.config.artifacts, PathBuf::from("/b"));
    }

    #[test]
    fn every_duration_is_bounded_with_its_position() {
        let p = Path::new("taskotron.yaml");
        for key in [
            "action_timeout",
            "download_timeout",
            "job_timeout",
            "worker_lease",
            "retry_delay",
            "report_deadline",
            "trigger_window",
            "mirror_interval",
        ] {
            for value in ["9223372036854775807s", "9223372036854775807", "400d"] {
                let text = format!("python: python3\n{key}: {value}\n");
                let e = Config::parse(&text, p, &env(&[])).unwrap_err().diagnostic();
                assert!(e.message.contains("too long"), "{key}: {}", e.message);
                assert_eq!(e.location.map(|l| l.line), Some(2), "{key}");
            }
        }
        for var in ["TASKOTRON_ACTION_TIMEOUT", "TASKOTRON_REPORT_DEADLINE"] {
            let e = Config::load(None, &env(&[(var, "9223372036854775807s")])).unwrap_err();
            assert!(e.to_string().contains("too long"), "{var}: {e}");
        }
    }

    #[test]
    fn errors_point_into_the_file_and_suggest() {
        let p = Path::new("taskotron.yaml");
        let e = Config::parse("python: python3\nartifcats: /x\n", p, &env(&[]))
            .unwrap_err()
            .diagnostic();
        assert_eq!(e.location.map(|l| l.line), Some(2));
        assert_eq!(e.help.as_deref(), Some("did you mean `artifacts`?"));
        let e = Config::parse("action_timeout: soon\n", p, &env(&[]))
            .unwrap_err()
            .diagnostic();
        assert!(e.message.contains("not a duration"), "{}", e.message);
        assert!(Config::load(Some(Path::new("/nonexistent/t.yaml")), &env(&[])).is_err());
        assert!(Config::load(
            None,
            &env(&[("TASKOTRON_SUPPORTED_ARCHES", "x86_64,sparc")])
        )
        .is_err());
    }

    /// The key table and `Config` hold the same keys, each documented.
    #[test]
    fn the_key_table_is_the_config() {
        use serde_norway::{Mapping, Value};
        let shown = serde_json::to_value(Config::defaults_from(&env(&[]))).unwrap();
        let fields: Vec<&String> = shown.as_object().unwrap().keys().collect();
        for f in &fields {
            assert!(
                KEYS.iter().any(|k| k.name == f.as_str()),
                "`{f}` is not in config::KEYS"
            );
        }
        for key in KEYS {
            assert!(!key.doc.is_empty(), "`{}` has no doc", key.name);
            // A key serde does not know would be refused as unknown.
            let mut m = Mapping::new();
            m.insert(Value::from(key.name), Value::Null);
            if let Err(e) = serde_norway::from_value::<Config>(Value::Mapping(m)) {
                assert!(
                    !e.to_string().contains("unknown field"),
                    "{}: {e}",
                    key.name
                );
            }
        }
        let secrets = KEYS.len() - fields.len();
        assert_eq!(secrets, 3, "the three secrets are the keys never shown");
    }

    /// Sizes read as people write them, null is no limit, and a bad one says what a
    /// size looks like, where it is.
    #[test]
    fn sizes_are_read_with_their_position() {
        let path = Path::new("/etc/taskotron.yaml");
        let c = Config::parse(
            "sandbox_memory: 2 GiB\nsandbox_disk: null\nsandbox_file_size: 1024\n",
            path,
            &env(&[]),
        )
        .unwrap();
        assert_eq!(c.sandbox_memory, Some(bytesize::ByteSize::gib(2)));
        assert_eq!(c.sandbox_disk, None);
        assert_eq!(c.sandbox_file_size, Some(bytesize::ByteSize::b(1024)));
        let e = Config::parse("sandbox_memory: lots\n", path, &env(&[]))
            .unwrap_err()
            .diagnostic();
        let text = taskotron_tap::diagnostic::render_all(&[e]);
        assert!(
            text.contains("`lots` is not a size; expected one such as `8 GiB`")
                && text.contains("taskotron.yaml:1:"),
            "{text}"
        );
    }

    /// Every key takes its `TASKOTRON_<KEY>`, and says where its value came from.
    #[test]
    fn every_key_honours_its_variable() {
        let defaults = serde_json::to_value(Config::defaults_from(&env(&[]))).unwrap();
        for key in KEYS {
            // Keys whose default is empty need a value of their kind.
            let sample = match key.name {
                "resultsdb_extra_outcomes" => Some("CRASHED"),
                "task_env" => Some("PYTHONPATH,PIP_*"),
                "blacklist_releases" => Some("el6"),
                "tasks" => Some("{rpmlint: /srv/tasks/rpmlint}"),
                "buildbot_workers" => Some("[{name: x86-1, arch: x86_64}]"),
                "isolation" => Some("sandbox"),
                "sandbox_paths" => Some("/opt/python"),
                "remote" => Some("taskotron@minion.example.org:2222"),
                _ => None,
            };
            let text = match defaults.get(key.name) {
                _ if sample.is_some() => sample.unwrap_or_default().to_string(),
                None | Some(serde_json::Value::Null) => match key.name {
                    n if n.ends_with("_url") || n.ends_with("_template") => {
                        "http://x.example".to_string()
                    }
                    _ => "x".to_string(),
                },
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Array(items)) if key.shape == keys::Shape::List => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                Some(other) => other.to_string(),
            };
            let text = if text.is_empty() {
                "x".to_string()
            } else {
                text
            };
            let var = keys::env_var(key.name);
            let loaded = Config::load(None, &env(&[(var.as_str(), text.as_str()), ("HOME", "/h")]))
                .unwrap_or_else(|e| panic!("${var}={text}: {e}"));
            assert_eq!(loaded.env_overrides, vec![var.clone()], "{var}");
            assert_eq!(loaded.sources[key.name], Source::Env, "{var}");
        }
    }

    /// The book's configuration block names every key, and only keys.
    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../docs/src/configuration.md");
        let start = readme
            .find("```yaml\nprofile:")
            .expect("the configuration chapter's config block");
        let block = &readme[start + 8..];
        let block = &block[..block.find("```").unwrap()];
        for key in KEYS {
            assert!(
                block
                    .lines()
                    .any(|l| l.starts_with(&format!("{}:", key.name))
                        || l.split('#').skip(1).any(|c| c.contains(key.name))),
                "README's config block does not name `{}`",
                key.name
            );
        }
        for line in block.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(':').next().unwrap_or("");
            assert!(
                KEYS.iter().any(|k| k.name == name),
                "README names `{name}`, not a key"
            );
        }
    }
}
