//! A `master.cfg` for a Buildbot 4.x master, from taskotron's settings: a builder per
//! arch pinned to the workers of that arch, `collapseRequests = False` (Buildbot's
//! default merges queued requests for different items into one build), a force
//! scheduler per arch whose JSON-RPC answer carries the request ids, and steps that
//! clone the task from the mirror, run `taskotron run` with the build's id and upload
//! the run's artifacts. Pure: returns text. Names are written as JSON strings, which
//! Python reads as the same string literals; secrets are read from the environment
//! when the master starts, never written into the file.

use taskotron_model::Arch;

// A worker as the config names it; the model's, so that the config reads it
// without knowing Buildbot.
pub use taskotron_model::WorkerSpec;

/// What the master needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterSettings {
    /// The workers.
    pub workers: Vec<WorkerSpec>,
    /// Where the web UI and REST API listen (`tcp:8010:interface=127.0.0.1`).
    pub web: String,
    /// Where workers connect (`tcp:9989:interface=127.0.0.1`).
    pub pb: String,
    /// The master's public URL.
    pub url: String,
    /// Base URL of the task mirror; a task is cloned from `<mirror>/<taskname>.git`.
    pub mirror: String,
    /// The `taskotron` command on the workers.
    pub taskotron: String,
}

fn py(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The master.cfg text.
pub fn render(s: &MasterSettings) -> String {
    let mut arches: Vec<Arch> = s.workers.iter().map(|w| w.arch).collect();
    arches.sort_by_key(|a| a.to_string());
    arches.dedup();
    let workers: Vec<String> = s
        .workers
        .iter()
        .map(|w| format!("    ({}, {}),", py(&w.name), py(&w.arch.to_string())))
        .collect();
    let arch_list: Vec<String> = arches.iter().map(|a| py(&a.to_string())).collect();
    format!(
        r#"# -*- python -*-
# Written by `taskotron buildbot master-cfg`; regenerate rather than edit.
# Buildbot 4.x. Workers authenticate with $TASKOTRON_BUILDBOT_WORKER_PASSWORD.
import os

from buildbot.plugins import schedulers, steps, util, worker

WORKERS = [
{workers}
]
ARCHES = [{arches}]
MIRROR = {mirror}
TASKOTRON = {taskotron}
PASSWORD = os.environ["TASKOTRON_BUILDBOT_WORKER_PASSWORD"]

c = BuildmasterConfig = {{}}
c["workers"] = [
    worker.Worker(name, PASSWORD, max_builds=1, properties={{"worker_arch": arch}})
    for name, arch in WORKERS
]
c["protocols"] = {{"pb": {{"port": {pb}}}}}


def factory():
    f = util.BuildFactory()
    f.addStep(steps.Git(
        name="clone-task",
        repourl=util.Interpolate(MIRROR + "/%(prop:taskname)s.git"),
        mode="full", method="clobber", workdir="task",
    ))
    # Exit 0: OK; 100: OK with failing results; 1: NOT_OK; 2: invalid input.
    f.addStep(steps.ShellCommand(
        name="run-task",
        workdir=".",
        command=[
            TASKOTRON, "--color", "never", "run", "task",
            "--item", util.Property("item"),
            "--type", util.Property("item_type"),
            "--arch", util.Property("arch"),
            "--build-id", util.Property("build_id"),
            "--format", "json",
            "--artifacts", "artifacts",
        ],
        decodeRC={{0: util.SUCCESS, 100: util.WARNINGS, 1: util.FAILURE, 2: util.FAILURE}},
    ))
    f.addStep(steps.DirectoryUpload(
        name="upload-artifacts",
        workdir=".",
        workersrc="artifacts",
        masterdest=util.Interpolate("artifacts/%(prop:build_id)s"),
        alwaysRun=True,
    ))
    return f


c["builders"] = [
    util.BuilderConfig(
        name="taskotron-" + arch,
        workernames=[name for name, a in WORKERS if a == arch],
        factory=factory(),
        tags=["taskotron", arch],
    )
    for arch in ARCHES
]

# One job per request, always: the default merges queued requests into one build.
c["collapseRequests"] = False

c["schedulers"] = [
    schedulers.ForceScheduler(
        name="force_" + arch,
        builderNames=["taskotron-" + arch],
        codebases=[util.CodebaseParameter(
            "",
            branch=util.FixedParameter(name="branch", default=""),
            revision=util.FixedParameter(name="revision", default=""),
            repository=util.FixedParameter(name="repository", default=""),
            project=util.FixedParameter(name="project", default=""),
        )],
        properties=[
            util.StringParameter(name="taskname", required=True),
            util.StringParameter(name="item", required=True),
            util.StringParameter(name="item_type", required=True),
            util.StringParameter(name="build_id", required=True),
            util.FixedParameter(name="arch", default=arch),
        ],
    )
    for arch in ARCHES
]

c["title"] = "taskotron"
c["titleURL"] = {url}
c["buildbotURL"] = {url}
c["www"] = {{"port": {web}, "plugins": {{}}}}
c["db"] = {{"db_url": "sqlite:///state.sqlite"}}
c["buildbotNetUsageData"] = None
"#,
        workers = workers.join("\n"),
        arches = arch_list.join(", "),
        mirror = py(s.mirror.trim_end_matches('/')),
        taskotron = py(&s.taskotron),
        pb = py(&s.pb),
        web = py(&s.web),
        url = py(&s.url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MasterSettings {
        MasterSettings {
            workers: vec![
                WorkerSpec {
                    name: "x86_64-1".into(),
                    arch: Arch::X86_64,
                },
                WorkerSpec {
                    name: "i386-1".into(),
                    arch: Arch::I386,
                },
                WorkerSpec {
                    name: "x86_64-2".into(),
                    arch: Arch::X86_64,
                },
            ],
            web: "tcp:8010:interface=127.0.0.1".into(),
            pb: "tcp:9989:interface=127.0.0.1".into(),
            url: "http://127.0.0.1:8010/".into(),
            mirror: "file:///srv/mirror/".into(),
            taskotron: "taskotron".into(),
        }
    }

    #[test]
    fn writes_a_master_cfg_python_reads() {
        let text = render(&settings());
        insta::assert_snapshot!("master_cfg", text);
        assert!(text.contains(r#"c["collapseRequests"] = False"#));
        assert!(!text.contains("PASSWORD = \""), "no secret in the file");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master.cfg");
        std::fs::write(&file, &text).unwrap();
        let status = std::process::Command::new("python3")
            .args(["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())"])
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success(), "python3 cannot parse the master.cfg");
    }

    #[test]
    fn hostile_names_stay_strings() {
        let mut s = settings();
        s.workers[0].name = "x\"); import os; os.system(\"id\") #".into();
        let text = render(&s);
        assert!(text.contains(r#"("x\"); import os; os.system(\"id\") #", "x86_64"),"#));
    }
}
