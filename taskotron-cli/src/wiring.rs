//! The composition root: every component built from the configuration, in one
//! place above them all. `taskotron_core::config` parses and checks the key table
//! and knows no component; each component owns its settings type; only this module
//! turns the one into the others (the runner's options, the worker pool, the
//! trigger, reporting, the services, the sandbox, remotes, the Buildbot master).
//! *Invariant: no decisions beyond copying settings; no I/O but the paths it names.*

use std::path::{Path, PathBuf};
use std::time::Duration;

use taskotron_core::config::{Config, RunFor};
use taskotron_core::Arch;

/// The components a configuration builds.
pub trait Wiring {
    /// Where the tasks are, from `tasks` and `task_path`.
    fn tasks(&self) -> taskotron_core::task::Tasks;

    /// The reporting part of the configuration.
    fn reporting(&self) -> taskotron_core::resultsdb::Reporting;

    /// The worker pool of this configuration: `jobs` threads named after `name`,
    /// for `arches` (the config's `supported_arches` when none are given).
    fn worker_pool(&self, name: String, arches: &[Arch], jobs: u16)
        -> taskotron_core::worker::Pool;

    /// How a worker of this configuration runs each job: `program run-job`, reading
    /// `config_file` (the worker's own), its scratch files under the state directory.
    fn executor(
        &self,
        program: PathBuf,
        config_file: Option<&Path>,
    ) -> taskotron_core::worker::CommandExecutor;

    /// A run of `input` on `arch` as this configuration sets it up: artifacts,
    /// scratch, timeouts, interpreter, environment, reporting and services. The
    /// caller adds overrides and may move the artifacts.
    fn run_options(
        &self,
        input: taskotron_core::TaskInput,
        arch: Option<Arch>,
    ) -> taskotron_core::runner::RunOptions;

    /// Where a run goes: to `ssh` when given, else to the config's `remote`, else
    /// here; `local` keeps it here whatever the rest says (`runtask --local`). A
    /// `privkey` given wins over `ssh_privkey`.
    fn remote_for(
        &self,
        ssh: Option<taskotron_core::SshTarget>,
        privkey: Option<PathBuf>,
        local: bool,
    ) -> Option<taskotron_core::remote::Remote>;

    /// Runs on `target` over SSH with this configuration's ssh settings. The
    /// runner there reads this configuration without what it must not have or
    /// cannot use: the secrets (never serialised), ResultsDB (reporting is sent
    /// from here), the namespaces file (checked here) and `remote` itself.
    fn remote_to(&self, target: taskotron_core::SshTarget) -> taskotron_core::remote::Remote;

    /// How this configuration's sandboxes are made: its limits and paths, with the
    /// config file, the state directory (the cache in it) and the artifacts and
    /// scratch roots hidden.
    fn sandbox(&self) -> taskotron_core::sandbox::SandboxSettings;

    /// What gating reads under this configuration (`decide`, `/api/v1.0/decision`).
    fn gating(&self) -> taskotron_core::gating::GatingSettings;

    /// What the Fedora CI messages of this configuration say besides the job:
    /// prefix, namespace, contact, and the URLs of the artifacts and job pages.
    fn ci_messages(&self) -> taskotron_core::ci_messages::CiSettings;

    /// How the CI messages reach the broker at `uri`: the configured client
    /// certificates, a bounded exchange.
    #[cfg(feature = "amqp")]
    fn ci_amqp(&self, uri: &str) -> taskotron_trigger::bus::amqp::AmqpSettings;

    /// The trigger of this configuration for `rules`: its arches, dedupe window and
    /// blacklisted releases, and, when a rule asks for `dist_git_tests`, a plan finder
    /// asking the configured Koji and fetching through the task mirror.
    fn trigger(
        &self,
        rules: taskotron_trigger::trigger::Rules,
    ) -> taskotron_trigger::trigger::Trigger;

    /// How the trigger consumes from the broker at `uri`: the configured queue unless
    /// `queue` names another, bound to the topics `rules` reads, with the configured
    /// prefetch and client certificates.
    #[cfg(feature = "amqp")]
    fn amqp(
        &self,
        uri: &str,
        queue: Option<&str>,
        rules: &taskotron_trigger::trigger::Rules,
    ) -> taskotron_trigger::bus::amqp::AmqpSettings;

    /// Where the download directives fetch from.
    fn services(&self) -> taskotron_core::directive::Services;

    /// The Buildbot master's settings.
    fn buildbot(&self) -> taskotron_core::buildbot::MasterSettings;

    /// ResultsDB credentials, token first.
    fn resultsdb_auth(&self) -> Option<taskotron_core::resultsdb::Auth>;
}

impl Wiring for Config {
    fn tasks(&self) -> taskotron_core::task::Tasks {
        taskotron_core::task::Tasks {
            named: self.tasks.clone(),
            path: self.task_path.clone(),
            mirror: taskotron_core::mirror::Mirror::new(
                &self.state_dir.join("mirror"),
                self.mirror_interval,
            ),
            checkouts: self.state_dir.join("checkouts"),
        }
    }

    fn reporting(&self) -> taskotron_core::resultsdb::Reporting {
        taskotron_core::resultsdb::Reporting {
            resultsdb_url: self.resultsdb_url.clone(),
            auth: self.resultsdb_auth(),
            testcase_ref_url: self.resultsdb_testcase_ref_url.clone(),
            accepted: self.resultsdb_outcomes(),
            artifacts_base_url: self.artifacts_base_url.clone().or_else(|| {
                self.web_url
                    .as_ref()
                    .map(|w| format!("{}/artifacts", w.trim_end_matches('/')))
            }),
            job_url_template: self.job_url_template.clone().or_else(|| {
                self.web_url
                    .as_ref()
                    .map(|w| format!("{}/jobs/{{build_id}}", w.trim_end_matches('/')))
            }),
            web_url: self.web_url.clone(),
            state_dir: self.state_dir.clone(),
            policy: taskotron_core::resultsdb::Policy {
                deadline: self.report_deadline,
                concurrency: self.report_concurrency,
                ..taskotron_core::resultsdb::Policy::default()
            },
            bodhi_url: self.bodhi_url.clone(),
            bodhi_user: self.bodhi_user.clone(),
            bodhi_token: self.bodhi_token.clone(),
            bodhi_comment_span: self.bodhi_comment_span,
            namespaces: self.namespaces.clone(),
            local: self
                .resultsdb_url
                .is_none()
                .then(|| self.state_dir.join(taskotron_core::resultsdb::local::FILE)),
            deferred: None,
            mocked: false,
            gating: self.gating_policies.is_some().then(|| self.gating()),
        }
    }

    fn worker_pool(
        &self,
        name: String,
        arches: &[Arch],
        jobs: u16,
    ) -> taskotron_core::worker::Pool {
        taskotron_core::worker::Pool {
            settings: taskotron_core::worker::WorkerSettings {
                name,
                arches: if arches.is_empty() {
                    self.supported_arches.clone()
                } else {
                    arches.to_vec()
                },
                lease: self.worker_lease,
                max_attempts: self.max_attempts,
                retry_delay: self.retry_delay,
            },
            jobs,
        }
    }

    fn executor(
        &self,
        program: PathBuf,
        config_file: Option<&Path>,
    ) -> taskotron_core::worker::CommandExecutor {
        taskotron_core::worker::CommandExecutor {
            program,
            config: config_file.map(Path::to_path_buf),
            artifacts: self.artifacts.clone(),
            scratch: self.state_dir.join("worker"),
            timeout: self.job_timeout,
            env: Vec::new(),
        }
    }

    fn run_options(
        &self,
        input: taskotron_core::TaskInput,
        arch: Option<Arch>,
    ) -> taskotron_core::runner::RunOptions {
        taskotron_core::runner::RunOptions {
            input,
            arch,
            overrides: Vec::new(),
            artifacts_root: self.artifacts.clone(),
            tmpdir: self.tmpdir.clone(),
            default_timeout: self.action_timeout,
            python: self.python.clone(),
            task_env: self.task_env.clone(),
            reporting: self.reporting(),
            services: self.services(),
            install_rpms: self.install_rpms,
            run_id: None,
            isolation: self.isolation_for(RunFor::Author),
            sandbox: self.sandbox(),
            remote: self.remote_for(None, None, false),
        }
    }

    fn remote_for(
        &self,
        ssh: Option<taskotron_core::SshTarget>,
        privkey: Option<PathBuf>,
        local: bool,
    ) -> Option<taskotron_core::remote::Remote> {
        let target = ssh.or_else(|| self.remote.clone()).filter(|_| !local)?;
        let mut remote = self.remote_to(target);
        if privkey.is_some() {
            remote.privkey = privkey;
        }
        Some(remote)
    }

    fn remote_to(&self, target: taskotron_core::SshTarget) -> taskotron_core::remote::Remote {
        let mut config = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = config.as_object_mut() {
            for key in [
                "remote",
                "ssh_privkey",
                "ssh_config",
                "ssh_known_hosts",
                "resultsdb_url",
                "resultsdb_username",
                "namespaces",
            ] {
                map.insert(key.into(), serde_json::Value::Null);
            }
        }
        taskotron_core::remote::Remote {
            target,
            privkey: self.ssh_privkey.clone(),
            ssh_config: self.ssh_config.clone(),
            known_hosts: self.ssh_known_hosts.clone(),
            connect_timeout: Duration::from_secs(10),
            control_dir: std::path::absolute(self.state_dir.join("ssh"))
                .unwrap_or_else(|_| self.state_dir.join("ssh")),
            program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("taskotron")),
            config,
        }
    }

    fn sandbox(&self) -> taskotron_core::sandbox::SandboxSettings {
        taskotron_core::sandbox::SandboxSettings {
            limits: taskotron_core::sandbox::Limits {
                memory: self.sandbox_memory.map(|b| b.as_u64()),
                processes: self.sandbox_processes,
                open_files: self.sandbox_open_files,
                file_size: self.sandbox_file_size.map(|b| b.as_u64()),
                disk: self.sandbox_disk.map(|b| b.as_u64()),
            },
            allow_network: self.allow_network,
            read_only: self.sandbox_paths.clone(),
            hidden: [&self.state_dir, &self.artifacts, &self.tmpdir]
                .into_iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .chain(self.read_from.clone())
                .collect(),
        }
    }

    fn gating(&self) -> taskotron_core::gating::GatingSettings {
        let services = self.services();
        taskotron_core::gating::GatingSettings {
            state_dir: self.state_dir.clone(),
            queue: self.queue_path(),
            policies: self.gating_policies.clone(),
            koji_url: services.koji_url,
            bodhi_url: self.bodhi_url.clone(),
            mirror: self.tasks().mirror,
            timeout: services.timeout,
            web_url: self.web_url.clone(),
        }
    }

    fn ci_messages(&self) -> taskotron_core::ci_messages::CiSettings {
        let r = self.reporting();
        taskotron_core::ci_messages::CiSettings {
            prefix: self.ci_messages_prefix.clone(),
            namespace: self.ci_messages_namespace.clone(),
            category: "functional".into(),
            contact: taskotron_core::ci_messages::Contact {
                name: "taskotron".into(),
                team: self.ci_contact_team.clone(),
                docs: self.ci_contact_docs.clone(),
                email: self.ci_contact_email.clone(),
                irc: None,
            },
            artifacts_base_url: r.artifacts_base_url,
            job_url_template: r.job_url_template,
            web_url: self.web_url.clone(),
        }
    }

    #[cfg(feature = "amqp")]
    fn ci_amqp(&self, uri: &str) -> taskotron_trigger::bus::amqp::AmqpSettings {
        taskotron_trigger::bus::amqp::AmqpSettings {
            uri: uri.to_string(),
            queue: String::new(),
            bindings: Vec::new(),
            prefetch: 1,
            tls: amqp_tls(self),
            exchange_timeout: taskotron_trigger::bus::amqp::EXCHANGE_TIMEOUT,
        }
    }

    fn trigger(
        &self,
        rules: taskotron_trigger::trigger::Rules,
    ) -> taskotron_trigger::trigger::Trigger {
        let wants = rules
            .rules()
            .iter()
            .any(|r| r.actions.iter().any(|a| a.dist_git_tests));
        let trigger = taskotron_trigger::trigger::Trigger::new(
            rules,
            self.supported_arches.clone(),
            self.trigger_window,
            self.blacklist_releases.clone(),
        );
        if !wants {
            return trigger;
        }
        let services = self.services();
        trigger.with_plan_finder(Box::new(
            taskotron_core::dist_git_tests::KojiPlanFinder::new(
                taskotron_core::koji::KojiClient::new(&services.koji_url, services.timeout),
                self.tasks().mirror,
                self.state_dir.join("checkouts"),
            ),
        ))
    }

    #[cfg(feature = "amqp")]
    fn amqp(
        &self,
        uri: &str,
        queue: Option<&str>,
        rules: &taskotron_trigger::trigger::Rules,
    ) -> taskotron_trigger::bus::amqp::AmqpSettings {
        let tls = amqp_tls(self);
        taskotron_trigger::bus::amqp::AmqpSettings {
            uri: uri.to_string(),
            queue: queue.map_or_else(|| self.amqp_queue.clone(), str::to_string),
            bindings: taskotron_trigger::bus::bindings(rules),
            prefetch: self.amqp_prefetch,
            tls,
            exchange_timeout: taskotron_trigger::bus::amqp::EXCHANGE_TIMEOUT,
        }
    }

    fn services(&self) -> taskotron_core::directive::Services {
        taskotron_core::directive::Services {
            koji_url: self.koji_url.clone(),
            koji_pkgs_url: self.koji_pkgs_url.clone(),
            bodhi_url: self
                .bodhi_url
                .clone()
                .unwrap_or_else(|| self.bodhi_api_url.clone()),
            distgit_url: self.distgit_url.clone(),
            tmt_checkname: self.tmt_checkname.clone(),
            sti_checkname: self.sti_checkname.clone(),
            install_rpms: self.install_rpms,
            mirror: Some(self.tasks().mirror),
            ansible_playbook: self.ansible_playbook.clone(),
            tools_dir: Some(
                self.tools_dir
                    .clone()
                    .unwrap_or_else(|| self.state_dir.join("cache/tools")),
            ),
            cache_dir: self.download_cache.then(|| self.state_dir.join("cache")),
            supported_arches: self.supported_arches.clone(),
            timeout: self.download_timeout,
            yumrepoinfo: self.yumrepoinfo.clone(),
        }
    }

    fn buildbot(&self) -> taskotron_core::buildbot::MasterSettings {
        let workers = if self.buildbot_workers.is_empty() {
            self.supported_arches
                .iter()
                .map(|a| taskotron_core::buildbot::WorkerSpec {
                    name: a.to_string(),
                    arch: *a,
                })
                .collect()
        } else {
            self.buildbot_workers.clone()
        };
        taskotron_core::buildbot::MasterSettings {
            workers,
            web: self.buildbot_web.clone(),
            pb: self.buildbot_pb.clone(),
            url: self.buildbot_url.clone(),
            mirror: self.buildbot_mirror.clone(),
            taskotron: "taskotron".into(),
        }
    }

    fn resultsdb_auth(&self) -> Option<taskotron_core::resultsdb::Auth> {
        if let Some(t) = &self.resultsdb_token {
            return Some(taskotron_core::resultsdb::Auth::Bearer(t.clone()));
        }
        match (&self.resultsdb_username, &self.resultsdb_password) {
            (Some(u), Some(p)) => Some(taskotron_core::resultsdb::Auth::Basic {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => None,
        }
    }
}

/// The configured client certificates, for `amqps://`.
#[cfg(feature = "amqp")]
fn amqp_tls(config: &Config) -> Option<taskotron_trigger::bus::amqp::TlsFiles> {
    config
        .amqp_client_cert
        .clone()
        .zip(config.amqp_client_key.clone())
        .map(
            |(client_cert, client_key)| taskotron_trigger::bus::amqp::TlsFiles {
                ca_cert: config.amqp_ca_cert.clone(),
                client_cert,
                client_key,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--ssh` wins over the config's `remote`, `--local` over both, and
    /// `--ssh-privkey` over `ssh_privkey`; the remote's config has no secrets.
    #[test]
    fn where_a_run_goes() {
        let text = "remote: me@minion:2222\nssh_privkey: /k/config\nresultsdb_password: s3cret\n";
        let c = Config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        let r = c.remote_for(None, None, false).unwrap();
        assert_eq!(r.target.to_string(), "me@minion:2222");
        assert_eq!(r.privkey.as_deref(), Some(Path::new("/k/config")));
        assert!(!r.config.to_string().contains("s3cret"));
        assert_eq!(r.config["remote"], serde_json::Value::Null);
        let flag: taskotron_core::SshTarget = "you@other".parse().unwrap();
        let r = c
            .remote_for(Some(flag), Some("/k/flag".into()), false)
            .unwrap();
        assert_eq!(r.target.to_string(), "you@other");
        assert_eq!(r.privkey.as_deref(), Some(Path::new("/k/flag")));
        assert!(c.remote_for(None, None, true).is_none());
        let here = Config::parse("", Path::new("t.yaml"), &|_| None).unwrap();
        assert!(here.remote_for(None, None, false).is_none());
    }
}
