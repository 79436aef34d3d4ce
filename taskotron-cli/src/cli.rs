//! The command-line interface, defined once: help, completions and the man page all
//! come from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use taskotron_core::scheduler::JobState;
use taskotron_core::{Arch, ItemType};

/// Runs declarative test tasks (formulas) for Koji builds, Koji tags and Bodhi updates.
#[derive(Debug, Parser)]
#[command(
    name = "taskotron",
    version,
    propagate_version = true,
    after_help = "Examples:\n  taskotron run tasks/nvr-check --item htop-3.3.0-1.fc41 --type koji_build --arch x86_64\n  taskotron validate tasks/*/runtask.yml\n  taskotron new my-check\n\nExit codes: 0 OK, 1 the task did not execute properly (NOT_OK), 2 invalid input,\n100 an `exitcode` action asked for it (or `run --fail-on-results` and a failed result)."
)]
pub struct Cli {
    /// Configuration file (default: $TASKOTRON_CONFIG, then
    /// $XDG_CONFIG_HOME/taskotron/taskotron.yaml, then /etc/taskotron/taskotron.yaml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to use colours on stderr.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Print only errors on stderr (and, for `run` and `test`, nothing on stdout
    /// unless a machine format is asked for).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Show more: `run` and `test` stream each action's output live to stderr,
    /// each line prefixed with the action.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colours when stderr is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Output format of `run` and `test`, whose events programs may follow as they
/// happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout at the end: a stable contract.
    Json,
    /// One JSON object a line on stdout, as things happen, each with an `event`
    /// field (see README, "Machine output").
    Jsonl,
}

impl RunFormat {
    /// The format of a one-off document (errors before anything ran).
    pub fn document(self) -> Format {
        match self {
            RunFormat::Human => Format::Human,
            RunFormat::Json | RunFormat::Jsonl => Format::Json,
        }
    }
}

/// Output format of commands whose output programs may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout: a stable contract.
    Json,
}

/// Output format of commands that print as things happen (`trigger`, `worker`,
/// `serve`): one line each, whichever format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LinesFormat {
    /// For people.
    #[default]
    Human,
    /// One JSON object a line (JSON Lines), each as it happens: a stable contract.
    #[value(alias = "jsonl")]
    Json,
}

impl From<LinesFormat> for Format {
    fn from(f: LinesFormat) -> Self {
        match f {
            LinesFormat::Human => Format::Human,
            LinesFormat::Json => Format::Json,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a task for one item on one arch and print its execution report.
    #[command(
        after_help = "Examples:\n  taskotron run tasks/nvr-check --item htop-3.3.0-1.fc41 --type koji_build --arch x86_64\n  taskotron run tasks/minimal/runtask.yml -i FEDORA-2024-1a2b3c4d5e -t bodhi_update --format json\n  taskotron run tasks/minimal -i f39-updates-pending -t koji_tag -o note=hi\n  taskotron run minimal -i htop-3.3.0-1.fc41 -t koji_build --format jsonl --fail-on-results\n\nThe task is a formula file, a task directory, or a task's name on `task_path`.\nThe run's artifacts (log, each action's output and tests, execution.json,\nresults.junit.xml, report.html) go to <artifacts>/<run_id>/.\nExit codes: 0 OK, 1 NOT_OK (the task did not execute properly), 2 invalid input,\n100 an `exitcode` action asked for it, or --fail-on-results and a result is\nFAILED or NEEDS_INSPECTION."
    )]
    Run(RunArgs),
    /// The original runner's command line: run a formula and print its results as
    /// ResultYAML.
    #[command(
        after_help = "Examples:\n  taskotron runtask -i htop-3.3.0-1.fc41 -t koji_build -a x86_64 tasks/nvr-check/runtask.yml\n  taskotron runtask -i f39-updates-pending -t koji_tag tasks/minimal/runtask.yml > results.yml\n\nFor scripts and Buildbot steps written for Taskotron's `runtask`: the same flags,\nthe run's progress on stderr, and at the end its results on stdout as ResultYAML\n(what `taskotron run --format json` gives, in the original's format).\n`--jobid` is the scheduler's job id (`--build-id` of `run`); `--uuid`, `--local`\nand `--debug` are accepted for compatibility and change nothing.\nExit codes: as `taskotron run`."
    )]
    Runtask(RuntaskArgs),
    /// Run one job a worker handed over as a file (the `Job` dictionary); the
    /// report goes to the file the job file names. Workers start this.
    #[command(hide = true)]
    RunJob {
        /// The job file a worker wrote.
        file: PathBuf,
    },
    /// Run the test cases of tasks (their `tests.yaml`) against the mock services.
    #[command(
        after_help = "Examples:\n  taskotron test tasks/rpmlint\n  taskotron test                      # every task under task_path\n  taskotron test tasks/* --filter unknown --format json\n  taskotron test --schema             # the tests.yaml schema\n  taskotron test --schema fixture     # the mock fixture schema\n\nEach case runs the task for its item against mock Koji, Bodhi and dist-git\nstarted from its fixture (a path relative to the task directory), and compares\nthe execution report with `expect`. A tests.yaml looks like:\n\n  cases:\n    - name: a passing build\n      item: htop-3.3.0-1.fc41\n      type: koji_build\n      arch: x86_64\n      mock: fixtures/koji.yaml\n      expect: {execution_status: OK, outcomes: {scratch.my-check: PASSED}}\n\nExit codes: 0 every case passed, 100 a case failed, 4 no test case found,\n2 invalid input."
    )]
    Test(TestArgs),
    /// Check formulas without running them; reports every problem at once.
    #[command(
        after_help = "Examples:\n  taskotron validate tasks/nvr-check\n  taskotron validate tasks/*/runtask.yml --format json\n\nExit codes: 0 all valid, 2 some invalid."
    )]
    Validate(ValidateArgs),
    /// Create a task directory that `taskotron run` accepts as it is.
    #[command(
        after_help = "Example:\n  taskotron new my-check && taskotron run my-check -i xchat-2.8.8-21.fc20 -t koji_build"
    )]
    New(NewArgs),
    /// List the directives a formula can use, with their parameters.
    Directives(FormatArgs),
    /// Run one directive alone: a JSON request on stdin, the JSON answer on stdout.
    #[command(
        after_help = "Examples:\n  echo '{\"params\": {\"result\": \"PASS\", \"msg\": \"fine\"}}' | taskotron call dummy\n  echo '{\"params\": {\"result\": \"FAIL\"}}' | taskotron call dummy\n\nThe request is {\"protocol\": 1, \"params\": {...}, \"arg_data\": {...}}: the directive's\nparameters as a formula gives them, and the original runner's arguments (item,\ntype, arch, checkname, workdir, artifactsdir, taskdir). The answer is\n{\"protocol\": 1, \"value\": ...} or {\"protocol\": 1, \"error\": {\"type\", \"message\",\n\"failure\"}}, with the libtaskotron exception the original raised. The\ndirective's own output goes to stderr. libtaskotron.directives (Taskotron's\nplaybook tasks import it) is a client of this command.\nExit codes: 0 answered (the answer says whether the directive failed), 2 not a\nrequest or no such directive."
    )]
    Call(CallArgs),
    /// Show the configuration in effect and where it came from.
    Config(FormatArgs),
    /// Send results (TAP or ResultYAML files) to ResultsDB without re-running anything.
    #[command(
        after_help = "Examples:\n  taskotron report results.yml --resultsdb http://127.0.0.1:5001\n  taskotron report results.tap --item htop-3.3.0-1.fc41 --type koji_build --build-id b-7\n  taskotron report --resume\n  taskotron report results.yml --dry-run --format json\n\nEvery result is written to the spool in the state directory before it is sent and\nremoved once ResultsDB has it; `--resume` sends what an earlier report left.\nA result's id comes from its run (the run's id, else `--build-id`, else the files'\ncontents) and from the result itself: reporting the same run again sends only what\nResultsDB does not have yet; `--again` sends everything anew. `report_deadline`\nbounds the whole delivery; what is not delivered by then stays in the spool.\nExit codes: 0 everything delivered (or already there), 1 something left in the\nspool or refused, 2 invalid input (nothing was sent)."
    )]
    Report(ReportArgs),
    /// Turn bus messages into jobs by the rules (from a file, stdin or RabbitMQ).
    #[command(
        after_help = "Examples:\n  taskotron trigger --rules trigger_rules.yml --from messages.jsonl --dry-run\n  cat messages.jsonl | taskotron trigger --rules trigger_rules.yml --dry-run --format json\n  taskotron trigger --rules trigger_rules.yml --from amqp://guest:guest@127.0.0.1:5672/%2f\n\nEach message is a fedora-messaging message ({routing_key, properties, body}) or a\nfedmsg envelope ({topic, msg, msg_id}): one a line, pretty-printed one after another,\nin a JSON array, or datagrepper pages ({raw_messages: [...]}). A message that cannot\nbe read is skipped with a warning naming its line. Jobs are printed one per line;\nwithout --dry-run they are first written to the queue, <state_dir>/queue.sqlite, once\nper message id, and only then is an AMQP message acknowledged. From a broker the\ntrigger runs until SIGINT or SIGTERM, reconnecting when the broker goes away; from a\nfile or stdin a signal stops it after the message at hand.\nExit codes: 0 done (or stopped by a signal), 1 jobs could not be stored, 2 invalid\nrules or arguments, or not one message could be read."
    )]
    Trigger(TriggerArgs),
    /// Put jobs in the embedded queue: one per arch.
    #[command(
        after_help = "Examples:\n  taskotron schedule nvr-check -i htop-3.3.0-1.fc41 -t koji_build -a x86_64 -a aarch64\n  taskotron schedule rpmlint -i grep-3.11-1.fc39 -t koji_build --format json\n\nThe queue is <state_dir>/queue.sqlite; `taskotron worker` runs what it holds.\nExit codes: 0 scheduled, 1 the queue failed, 2 invalid input."
    )]
    Schedule(ScheduleArgs),
    /// Run jobs from the embedded queue, for some arches (and noarch).
    #[command(
        after_help = "Examples:\n  taskotron worker --once                     # until the queue has nothing for us\n  taskotron worker --arch x86_64 --arch i386 --jobs 2\n\nTasks are found by name in the config's `tasks`, then as <dir>/<name>/ in `task_path`.\nEach job runs in a child `taskotron run-job`, handed the `Job` dictionary as a file and\nwriting its execution report to one (a runner of another build is refused); its\nlease is renewed while it runs, and a job whose worker dies is requeued.\nExit codes: 0 stopped cleanly, 1 the queue failed, 2 invalid input."
    )]
    Worker(WorkerArgs),
    /// The trigger, the queue and local workers in one process (a single machine).
    #[command(
        after_help = "Examples:\n  taskotron serve --rules trigger_rules.yml --from amqp://guest:guest@127.0.0.1:5672/%2f --jobs 2\n  taskotron serve --rules trigger_rules.yml --from messages.jsonl\n  taskotron serve --rules trigger_rules.yml --from messages.jsonl --http 127.0.0.1:8080\n\nFrom a file, the workers run every job the messages made and then it stops (with\n--http, the pages stay up until SIGINT or SIGTERM); from a broker it runs until\nSIGINT or SIGTERM. --http serves the job pages, artifacts, API and metrics (see\n`taskotron web --help`) and makes them the default of artifact and job URLs.\nExit codes: 0 done, 1 jobs could not be stored or the queue failed, 2 invalid input."
    )]
    Serve(ServeArgs),
    /// Serve the job pages, the artifacts, the JSON API and metrics (read-only).
    #[command(
        after_help = "Examples:\n  taskotron web                               # http://127.0.0.1:8080/\n  taskotron web --http 0.0.0.0:8080           # every interface: put it behind a proxy\n\nPages: / (jobs, filterable: ?state=CRASHED&task=rpmlint&item=...&arch=x86_64&page=2),\n/jobs/<uuid> (one job's life, results, artifacts and a reproducer), /artifacts/<run_id>/\n(each run's files), /api/v1/jobs[/<uuid>] (JSON), /metrics (Prometheus), /healthz.\nIt reads the state directory's queue and the artifacts directory and writes nothing,\nso it can run beside workers started elsewhere. Runs until SIGINT or SIGTERM.\nExit codes: 0 stopped, 1 the server failed, 2 invalid input (an address in use)."
    )]
    Web(WebArgs),
    /// List the jobs of the embedded queue.
    #[command(
        after_help = "Examples:\n  taskotron jobs\n  taskotron jobs --state crashed --format json"
    )]
    Jobs(JobsArgs),
    /// A check's results or a test case's outcomes over builds, newest first.
    #[command(
        after_help = "Examples:\n  taskotron history dist.rpmlint --package htop\n  taskotron history smoke --arch x86_64 --format json\n\nNAME is a result's name (a check) or a test case's name; every run on this\nmachine is kept in <state_dir>/history.sqlite (`taskotron gc` bounds it).\nExit codes: 0 listed, 4 nothing recorded under that name."
    )]
    History(HistoryArgs),
    /// Tests whose outcome flips between runs of the same build and arch.
    #[command(
        after_help = "Examples:\n  taskotron flaky\n  taskotron flaky dist.rpmlint --format json\n\nA test is flaky when its outcome changed (passed to failed or back) between runs\nof one task for one item on one arch: a retried job, a rerun. The web shows the\nsame at /flaky/<task>, a run's page and its job's say which of its tests are\nknown flaky, and /metrics counts them.\nExit codes: 0 listed (none is not an error)."
    )]
    Flaky(FlakyArgs),
    /// What changed between two runs' tests: newly failing, fixed, still failing, new, gone.
    #[command(
        after_help = "Examples:\n  taskotron compare 3f2a 9c1e\n  taskotron compare 3f2a 9c1e --format json\n\nRUN_A is the earlier run, RUN_B the later; a prefix of a run's id is enough. Every\nrun compares itself with the previous build of its package when it ends.\nExit codes: 0 nothing newly fails, 100 a test newly fails, 2 an unknown run."
    )]
    Compare(CompareArgs),
    /// May this build or update pass a gate? Greenwave's decision, made here.
    #[command(
        after_help = "Examples:\n  taskotron decide grep-3.11-1.fc41 --context bodhi_update_push_stable --product-version fedora-41\n  taskotron decide --request decision.json --format json\n\nPolicies come from `gating_policies` (Greenwave policy YAML) and the package's\ndist-git gating.yaml; results from the embedded results store; waivers from\n`taskotron waive`. SUBJECT is an NVR (koji_build) or an update alias (bodhi_update,\nwhose builds come along). The web serves the same at POST /api/v1.0/decision.\nExit codes: 0 policies satisfied, 100 not satisfied, 4 no policy applies,\n2 invalid input (a bad request or policy file), 1 a fact could not be read."
    )]
    Decide(DecideArgs),
    /// Waive a test for a build or update (WaiverDB's waiver), or revoke a waiver.
    #[command(
        after_help = "Examples:\n  taskotron waive htop-3.3.0-1.fc41 dist.rpmlint --product-version fedora-41 --comment known\n  taskotron waive htop-3.3.0-1.fc41 dist.rpmlint --product-version fedora-41 --comment no --revoke\n  taskotron waive --list --subject htop-3.3.0-1.fc41\n\nWaivers are kept in <state_dir>/history.sqlite, never changed (a newer one stands over\nan older), and served at /api/v1.0/waivers in WaiverDB's shape.\nExit codes: 0 recorded or listed, 2 invalid input."
    )]
    Waive(WaiveArgs),
    /// Publish the jobs' Fedora CI messages (queued, running, complete, error) to AMQP.
    #[command(
        name = "ci-messages",
        after_help = "Examples:\n  taskotron ci-messages --dry-run --format json\n  taskotron ci-messages --to amqp://127.0.0.1:5672/%2f --once\n\nEach line of a job's history in the queue becomes <prefix>.koji-build.test.<stage>\n(<prefix>.fedora-update.test.<stage> for an update; Fedora CI messages 1.x) on amq.topic;\nthe broker confirms each message before the feed's cursor moves, so a message is\npublished at least once, with an id of its own.\nThe first time, the feed starts at its end. `serve` does the same when\n`ci_messages_url` is set.\nExit codes: 0 published (or nothing to), 2 no broker named or not an AMQP URI,
1 the broker, Koji or Bodhi failed."
    )]
    CiMessages(CiMessagesArgs),
    /// Delete old run directories and finished jobs.
    #[command(
        after_help = "Examples:\n  taskotron gc --older-than 120d\n  taskotron gc --older-than 30d --dry-run --format json\n\nRemoves <artifacts>/<run_id>/ directories and the workdirs NOT_OK runs kept\n(<tmpdir>/<run_id>/) last changed before the age, and the COMPLETED and CRASHED\njobs of the queue. Jobs that wait or run are never touched."
    )]
    Gc(GcArgs),
    /// Clone or fetch the mirrors of tasks kept in git.
    #[command(
        after_help = "Examples:\n  taskotron mirror                 # every git task of the config, if stale\n  taskotron mirror rpmlint --force # fetch now, whatever the interval\n\nWorkers do this themselves before a job; this is for refreshing on demand (a push\nhook, a cron job). Exit codes: 0 done, 1 some repository failed, 2 unknown task."
    )]
    Mirror(MirrorArgs),
    /// Buildbot, for running jobs on many machines.
    #[command(subcommand)]
    Buildbot(BuildbotCommand),
    /// Read TAP (13 or 14, from any producer): convert it, or check it.
    #[command(subcommand)]
    Tap(TapCommand),
    /// List, show or export the tmt tests of an fmf tree, as `tmt tests` does.
    #[command(subcommand)]
    Tests(FmfCommand),
    /// List, show or export the tmt plans of an fmf tree, as `tmt plans` does.
    #[command(subcommand)]
    Plans(FmfCommand),
    /// Standard Test Interface suites (dist-git tests/tests.yml): move them to tmt.
    #[command(subcommand)]
    Sti(StiCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  mkdir -p ~/.local/share/bash-completion/completions\n  taskotron completions bash > ~/.local/share/bash-completion/completions/taskotron"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one per command into a directory.
    #[command(hide = true)]
    Man {
        /// Write `taskotron.1` and `taskotron-<command>.1` here instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Arguments of `schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// The task's name (see the config's `tasks` and `task_path`).
    pub taskname: String,
    /// The item to check.
    #[arg(short, long)]
    pub item: String,
    /// The item's type.
    #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = Choices::new(parse_item_type, ItemType::ALL.map(ItemType::as_str)))]
    pub item_type: ItemType,
    /// An arch to run on; repeat for several [default: noarch].
    #[arg(short, long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Vec<Arch>,
    /// Queue it although this machine does not know the task (one that only the
    /// workers' mirror or another machine's task path has).
    #[arg(long)]
    pub allow_unknown: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// An arch this worker runs; repeat for several [default: the config's
    /// `supported_arches`]. `noarch` jobs are always taken.
    #[arg(short, long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Vec<Arch>,
    /// Jobs run at once.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Stop when the queue has nothing for this worker, instead of waiting for more.
    #[arg(long)]
    pub once: bool,
    /// The worker's name in the queue [default: <host>-<pid>].
    #[arg(long)]
    pub name: Option<String>,
    /// Output format (of the line printed per job).
    #[arg(long, value_enum, default_value_t)]
    pub format: LinesFormat,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The rules file (the original trigger_rules.yml format).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Messages: a JSON-lines file, `-` for standard input, or a broker URI.
    #[arg(long, value_name = "FILE|-|URI", default_value = "-")]
    pub from: String,
    /// The durable AMQP queue to consume from (default: the config's `amqp_queue`).
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    /// An arch the local workers run; repeat for several [default: the config's
    /// `supported_arches`].
    #[arg(short, long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Vec<Arch>,
    /// Jobs run at once.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Also serve the web pages on this address (see `taskotron web`).
    #[arg(long, value_name = "HOST:PORT")]
    pub http: Option<String>,
    /// Output format (of the lines printed per job).
    #[arg(long, value_enum, default_value_t)]
    pub format: LinesFormat,
}

/// Arguments of `web`.
#[derive(Debug, Args)]
pub struct WebArgs {
    /// The address to listen on; anything but loopback must be asked for.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub http: String,
    /// Output format (of the status line).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `mirror`.
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// Tasks to refresh [default: every task configured as a git repository].
    pub tasks: Vec<String>,
    /// Fetch even when the mirror is younger than `mirror_interval`.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `taskotron buildbot ...`.
#[derive(Debug, clap::Subcommand)]
pub enum BuildbotCommand {
    /// Write a master.cfg for a Buildbot 4.x master from the configuration.
    #[command(
        after_help = "Examples:\n  taskotron buildbot master-cfg > master.cfg\n  taskotron buildbot master-cfg --out master/master.cfg\n\nA builder per arch pinned to its workers (`buildbot_workers`), collapseRequests off,\na force scheduler per arch, steps that clone <buildbot_mirror>/<taskname>.git, run\n`taskotron run` with the build's id and upload the artifacts. Start the master with\n$TASKOTRON_BUILDBOT_WORKER_PASSWORD set."
    )]
    MasterCfg {
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Submit jobs to the Buildbot master (`buildbot_url`), one per arch.
    #[command(
        after_help = "Examples:\n  taskotron buildbot submit nvr-check -i htop-3.3.0-1.fc41 -t koji_build -a x86_64 -a i386 --wait\n\nEach job gets a fresh build id; with --wait the command follows the builds through the\nREST API and prints each execution report. Exit codes: 0 submitted (and, with --wait,\nevery build succeeded), 1 a build failed or the master refused, 2 invalid input."
    )]
    Submit {
        /// The task's name.
        taskname: String,
        /// The item to check.
        #[arg(short, long)]
        item: String,
        /// The item's type.
        #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = Choices::new(parse_item_type, ItemType::ALL.map(ItemType::as_str)))]
        item_type: ItemType,
        /// An arch to run on; repeat for several.
        #[arg(short, long, value_parser = parse_arch, required = true)]
        arch: Vec<Arch>,
        /// Wait for the builds and print their reports.
        #[arg(long)]
        wait: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A check (result name) or a test case's name.
    pub name: String,
    /// Only the builds of this package.
    #[arg(long)]
    pub package: Option<String>,
    /// Only runs on this arch.
    #[arg(long)]
    pub arch: Option<String>,
    /// At most this many lines.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `flaky`.
#[derive(Debug, Args)]
pub struct FlakyArgs {
    /// Only this task's tests (its checkname, `dist.rpmlint`).
    pub task: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run (its id, or a prefix of it).
    pub run_a: String,
    /// The later run.
    pub run_b: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// NVRs and update aliases to decide about.
    #[arg(value_name = "SUBJECT", required_unless_present = "request")]
    pub subjects: Vec<String>,
    /// The gating point (`bodhi_update_push_stable`); may be repeated.
    #[arg(
        long = "context",
        value_name = "CONTEXT",
        required_unless_present = "request"
    )]
    pub contexts: Vec<String>,
    /// `fedora-41`, `epel-9`.
    #[arg(long, value_name = "VERSION", required_unless_present = "request")]
    pub product_version: Option<String>,
    /// The subjects' type when it is not guessed right (`koji_build` for NVRs,
    /// `bodhi_update` for `FEDORA-...`).
    #[arg(long, value_name = "TYPE")]
    pub subject_type: Option<String>,
    /// A Greenwave request body (JSON) instead of the arguments; `-` reads stdin.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["subjects", "contexts", "product_version"])]
    pub request: Option<PathBuf>,
    /// Include the results and waivers looked at (Greenwave's `verbose`).
    #[arg(long)]
    pub facts: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `waive`.
#[derive(Debug, Args)]
pub struct WaiveArgs {
    /// The NVR or update alias.
    #[arg(value_name = "SUBJECT", required_unless_present = "list")]
    pub subject: Option<String>,
    /// The testcase to waive (`dist.rpmlint`).
    #[arg(value_name = "TESTCASE", required_unless_present = "list")]
    pub testcase: Option<String>,
    /// The product version it holds in.
    #[arg(long, value_name = "VERSION", required_unless_present = "list")]
    pub product_version: Option<String>,
    /// Why; required, as in WaiverDB.
    #[arg(long, required_unless_present = "list")]
    pub comment: Option<String>,
    /// Record a revocation (`waived: false`) instead.
    #[arg(long)]
    pub revoke: bool,
    /// Only results of this scenario.
    #[arg(long)]
    pub scenario: Option<String>,
    /// The subject's type when it is not guessed right.
    #[arg(long, value_name = "TYPE")]
    pub subject_type: Option<String>,
    /// Who waives; default: $USER.
    #[arg(long, env = "USER", hide_env_values = true)]
    pub username: Option<String>,
    /// List the waivers that stand instead (with --subject, --testcase to filter).
    #[arg(long, conflicts_with_all = ["revoke", "comment"])]
    pub list: bool,
    /// With --list: only this subject.
    #[arg(long = "subject", value_name = "SUBJECT", requires = "list")]
    pub filter_subject: Option<String>,
    /// With --list: revoked and replaced waivers too.
    #[arg(long, requires = "list")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `ci-messages`.
#[derive(Debug, Args)]
pub struct CiMessagesArgs {
    /// The broker (`amqp://user:pass@host:port/vhost`); default `ci_messages_url`.
    #[arg(long, value_name = "URI")]
    pub to: Option<String>,
    /// Publish what is pending, then stop (default: keep publishing until SIGINT).
    #[arg(long)]
    pub once: bool,
    /// Print the pending messages; publish nothing and move no cursor.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (`json`: one JSON object a line).
    #[arg(long, value_enum, default_value_t)]
    pub format: LinesFormat,
}

/// Arguments of `gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Age beyond which things go: `120d`, `36h`, `2w`.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: std::time::Duration,
    /// Say what would go; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{e}; expected an age such as `120d` or `36h`"))
}

/// Arguments of `jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs in this state: scheduled, running, completed or crashed (ExecDB's
    /// names, as the web and the API show them; `finished` is taken for completed).
    #[arg(long, value_parser = Choices::new(parse_state, JobState::ALL.map(JobState::flag)))]
    pub state: Option<JobState>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// A parser of our own that also tells completions its values: the parse
/// function's messages (with their suggestions) and the shells' value completion.
#[derive(Clone)]
pub struct Choices<T: Clone + Send + Sync + 'static> {
    parse: fn(&str) -> Result<T, String>,
    values: Vec<&'static str>,
}

impl<T: Clone + Send + Sync + 'static> Choices<T> {
    fn new<const N: usize>(
        parse: fn(&str) -> Result<T, String>,
        values: [&'static str; N],
    ) -> Self {
        Self {
            parse,
            values: values.to_vec(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Choices<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.values
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

fn parse_state(s: &str) -> Result<JobState, String> {
    s.parse()
}

/// Arguments of `trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The rules file (the original trigger_rules.yml format).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Messages: a JSON-lines file, `-` for standard input, or a broker
    /// (`amqp://user:pass@host:5672/%2f`; `amqps://` needs the `amqp-tls` feature).
    #[arg(long, value_name = "FILE|-|URI", default_value = "-")]
    pub from: String,
    /// The durable AMQP queue to consume from (default: the config's `amqp_queue`).
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    /// Print the jobs; schedule nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (of the line printed per job).
    #[arg(long, value_enum, default_value_t)]
    pub format: LinesFormat,
}

/// Which schema `taskotron test --schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaOf {
    /// A task's `tests.yaml`.
    Tests,
    /// A mock fixture (a case's `mock:`, `run --mock FILE`).
    Fixture,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// TAP or ResultYAML files (optional with `--resume`).
    #[arg(required_unless_present = "resume")]
    pub files: Vec<PathBuf>,
    /// ResultsDB to send to (overrides the config's `resultsdb_url`).
    #[arg(long, value_name = "URL")]
    pub resultsdb: Option<String>,
    /// Also comment on Bodhi updates about `bodhi_update` results (overrides the
    /// config's `bodhi_url`; the token comes from `bodhi_token` or $TASKOTRON_BODHI_TOKEN).
    #[arg(long, value_name = "URL")]
    pub bodhi: Option<String>,
    /// With `--bodhi`: comment on every result, not only on changes.
    #[arg(long)]
    pub bodhi_all: bool,
    /// The build id the results belong to; it names their group and job URL.
    #[arg(long, value_name = "ID")]
    pub build_id: Option<String>,
    /// Show the payloads; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also send what earlier reports left in the spool.
    #[arg(long)]
    pub resume: bool,
    /// Send the results even if ResultsDB has them from an earlier report of the same
    /// run (they get new ids).
    #[arg(long)]
    pub again: bool,
    /// The arch the results are for (added to their data).
    #[arg(long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Option<Arch>,
    /// What the results are about, where the files do not say.
    #[command(flatten)]
    pub subject: TapSubject,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `taskotron tap ...`.
#[derive(Debug, Subcommand)]
pub enum TapCommand {
    /// Convert a TAP stream to results: JSON, ResultYAML, JUnit XML or TAP13.
    #[command(
        after_help = "Examples:\n  taskotron tap parse results.tap --format resultyaml\n  node --test --test-reporter=tap | taskotron tap parse - --format junit > junit.xml\n  perl t/basic.t | taskotron tap parse - --item htop-3.3.0-1.fc41 --type koji_build\n\nExit codes: 0 valid stream, 2 invalid stream (the output is still written)."
    )]
    Parse(TapParseArgs),
    /// Check a TAP stream: its structure and its failures, as a summary.
    #[command(
        after_help = "Examples:\n  taskotron tap check results.tap\n  perl t/basic.t | taskotron tap check - --format json\n\nExit codes: 0 valid and no failures, 1 failures, 2 invalid stream."
    )]
    Check(TapCheckArgs),
}

/// What a TAP stream is about, for test points that do not say.
#[derive(Debug, Args)]
pub struct TapSubject {
    /// The item results are for when the TAP does not name one [`tap`: default the file
    /// name; `report` has no default].
    #[arg(long)]
    pub item: Option<String>,
    /// The item's type.
    #[arg(long = "type", value_name = "TYPE")]
    pub item_type: Option<String>,
    /// The testcase name of results that carry none.
    #[arg(long, default_value = "scratch.tap")]
    pub checkname: String,
}

/// Output formats of `tap parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TapFormat {
    /// Results, test points, summary and diagnostics as one JSON document.
    Json,
    /// The same as JSON lines, streamed, each object with an `event` field: `test`
    /// (each leaf test as it is read), `result`, `diagnostic`, and a last `summary`.
    Jsonl,
    /// The results as ResultYAML.
    Resultyaml,
    /// JUnit XML: one testcase a test (subtests named `parent > child`).
    Junit,
    /// The results as TAP13 in the Taskotron layout (the plan at the end).
    Tap,
}

/// Arguments of `tap parse`.
#[derive(Debug, Args)]
pub struct TapParseArgs {
    /// The TAP file, or `-` for standard input.
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: TapFormat,
    /// What the stream is about.
    #[command(flatten)]
    pub subject: TapSubject,
}

/// Arguments of `tap check`.
#[derive(Debug, Args)]
pub struct TapCheckArgs {
    /// The TAP file, or `-` for standard input.
    pub input: PathBuf,
    /// Check the structure only; do not decode YAML blocks into results.
    #[arg(long)]
    pub structure_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// What the stream is about.
    #[command(flatten)]
    pub subject: TapSubject,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A formula file, a task directory holding `runtask.yml` or one `*.yml`, or
    /// the name of a task on the config's `task_path`.
    pub task: PathBuf,
    /// The item to check: an N-V-R, an update alias, a tag, ...
    #[arg(short, long)]
    pub item: String,
    /// The item's type.
    #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = Choices::new(parse_item_type, ItemType::ALL.map(ItemType::as_str)))]
    pub item_type: ItemType,
    /// The arch to run for [default: noarch].
    #[arg(short, long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Option<Arch>,
    /// The scheduler's build id; leave it out for a standalone run.
    #[arg(long, value_name = "ID")]
    pub build_id: Option<String>,
    /// Set a variable, winning over every other definition.
    #[arg(short = 'o', long = "override", value_name = "KEY=VALUE", value_parser = parse_override)]
    pub overrides: Vec<(String, String)>,
    /// For a task that is an fmf tree: run the plans whose name matches this
    /// regex (default: every enabled plan).
    #[arg(long, value_name = "NAME")]
    pub plan: Option<String>,
    /// For a task that is an fmf tree: a context dimension over the run's
    /// (`distro` from the item's dist tag, `arch`, `trigger`), such as
    /// `distro=fedora-40` (repeatable).
    #[arg(short = 'c', long = "context", value_name = "DIM=VALUE")]
    pub context: Vec<String>,
    /// Where run directories go (overrides the config's `artifacts`).
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Run against mock Koji, Bodhi and dist-git services started from this fixture
    /// (a YAML file, or NAME for `<task>/fixtures/NAME.yaml`); nothing is reported
    /// to the real ResultsDB or Bodhi.
    #[arg(long, value_name = "FIXTURE")]
    pub mock: Option<PathBuf>,
    /// Exit with 100 when a result is FAILED or NEEDS_INSPECTION, as an `exitcode`
    /// action would (for CI jobs that should fail with the check).
    #[arg(long)]
    pub fail_on_results: bool,
    /// How the task's processes are isolated: `sandbox` runs them under bubblewrap
    /// as a worker does [default: the config's `isolation`, else none].
    #[arg(long, value_name = "MODE", value_parser = Choices::new(parse_isolation, taskotron_core::Isolation::ALL.map(taskotron_core::Isolation::as_str)))]
    pub isolation: Option<taskotron_core::Isolation>,
    /// Run on another machine over SSH, `user@host[:port]`, as the original's `--ssh`:
    /// the task goes there, the same taskotron runs it, the artifacts come back
    /// [default: the config's `remote`, else this machine].
    #[arg(long, value_name = "USER@HOST[:PORT]", value_parser = parse_ssh)]
    pub ssh: Option<taskotron_core::SshTarget>,
    /// The private key for `--ssh` (`ssh -i`) [default: the config's `ssh_privkey`,
    /// else what ssh picks].
    #[arg(long, value_name = "PATH")]
    pub ssh_privkey: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: RunFormat,
    /// Print the results as ResultYAML instead of the report (`runtask`).
    #[arg(skip)]
    pub resultyaml: bool,
    /// Also write the report here, as a hand-off report file (`run-job`).
    #[arg(skip)]
    pub report_file: Option<PathBuf>,
    /// The run id the worker chose (`run-job`).
    #[arg(skip)]
    pub run_id: Option<String>,
    /// Stay on this machine whatever the config's `remote` says (`runtask --local`).
    #[arg(skip)]
    pub local: bool,
    /// Defer reporting into the report file (`run-job` of a remote run).
    #[arg(skip)]
    pub defer_reporting: bool,
}

/// Arguments of `runtask`, the original runner's flags.
#[derive(Debug, Args)]
pub struct RuntaskArgs {
    /// The formula file (or task directory).
    pub task: PathBuf,
    /// The item to check.
    #[arg(short, long)]
    pub item: String,
    /// The item's type.
    #[arg(short = 't', long = "type", value_name = "TYPE", value_parser = Choices::new(parse_item_type, ItemType::ALL.map(ItemType::as_str)))]
    pub item_type: ItemType,
    /// The arch to run for [default: noarch].
    #[arg(short, long, value_parser = Choices::new(parse_arch, Arch::ALL.map(Arch::as_str)))]
    pub arch: Option<Arch>,
    /// The scheduler's job id (the original's Buildbot `builder/number`).
    #[arg(short, long, value_name = "ID")]
    pub jobid: Option<String>,
    /// Accepted for compatibility: the run's id is always a new UUID.
    #[arg(long, value_name = "UUID")]
    pub uuid: Option<String>,
    /// Set a variable, winning over every other definition.
    #[arg(long = "override", value_name = "KEY=VALUE", value_parser = parse_override)]
    pub overrides: Vec<(String, String)>,
    /// Run on this machine (the default unless the config names a `remote`).
    #[arg(short, long, conflicts_with = "ssh")]
    pub local: bool,
    /// Run on another machine over SSH, `user@host[:port]`, as the original's `--ssh`:
    /// the task goes there, the same taskotron runs it, the artifacts come back
    /// [default: the config's `remote`, else this machine].
    #[arg(long, value_name = "USER@HOST[:PORT]", value_parser = parse_ssh)]
    pub ssh: Option<taskotron_core::SshTarget>,
    /// The private key for `--ssh` (`ssh -i`) [default: the config's `ssh_privkey`,
    /// else what ssh picks].
    #[arg(long, value_name = "PATH")]
    pub ssh_privkey: Option<PathBuf>,
    /// Run against mock Koji, Bodhi and dist-git services started from this fixture,
    /// as `run --mock` (not one of the original's flags).
    #[arg(long, value_name = "FIXTURE", conflicts_with = "ssh")]
    pub mock: Option<PathBuf>,

    /// Accepted for compatibility (use `--verbose` for the actions' output).
    #[arg(short, long)]
    pub debug: bool,
}

impl RuntaskArgs {
    /// The `run` these flags ask for, printing ResultYAML at the end.
    pub fn into_run(self) -> RunArgs {
        RunArgs {
            task: self.task,
            item: self.item,
            item_type: self.item_type,
            arch: self.arch,
            build_id: self.jobid,
            overrides: self.overrides,
            plan: None,
            context: Vec::new(),
            artifacts: None,
            mock: self.mock,
            fail_on_results: false,
            format: RunFormat::Human,
            resultyaml: true,
            report_file: None,
            run_id: None,
            isolation: None,
            ssh: self.ssh,
            ssh_privkey: self.ssh_privkey,
            local: self.local,
            defer_reporting: false,
        }
    }
}

/// Arguments of `test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Task directories with a `tests.yaml` [default: every task under the config's
    /// `task_path` that has one].
    pub tasks: Vec<PathBuf>,
    /// Run only the cases whose `task::name` contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Print a JSON Schema and exit: of tests.yaml (the default) or of a mock
    /// fixture (`--schema fixture`).
    #[arg(long, value_enum, value_name = "OF", num_args = 0..=1, default_missing_value = "tests")]
    pub schema: Option<SchemaOf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: RunFormat,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Formula files or task directories.
    #[arg(required = true)]
    pub tasks: Vec<PathBuf>,
    /// Variables the runs will define with `--override`.
    #[arg(short = 'o', long = "override", value_name = "KEY=VALUE", value_parser = parse_override)]
    pub overrides: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The task's name.
    pub name: String,
    /// Where to create it [default: ./<NAME>].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `taskotron call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The directive (`taskotron directives` lists them).
    pub directive: String,
}

/// Just `--format`.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// A value parser's message: what is wrong, what is accepted, and a tip for a near miss.
fn value_error(error: &dyn std::fmt::Display, expected: &str, suggestion: Option<&str>) -> String {
    let mut m = format!("{error}; expected one of {expected}");
    if let Some(s) = suggestion {
        m.push_str(&format!("\n\n  tip: did you mean `{s}`?"));
    }
    m
}

fn parse_item_type(s: &str) -> Result<ItemType, String> {
    s.parse::<ItemType>().map_err(|e| {
        value_error(
            &e,
            &taskotron_core::item::ItemTypeError::expected(),
            e.suggestion,
        )
    })
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    if s == "all" {
        return Err("`all` selects several arches; a run is for one arch".into());
    }
    s.parse::<Arch>().map_err(|e| {
        value_error(
            &e,
            &taskotron_core::arch::ArchError::expected(),
            e.suggestion,
        )
    })
}

fn parse_ssh(s: &str) -> Result<taskotron_core::SshTarget, String> {
    s.parse::<taskotron_core::SshTarget>()
        .map_err(|e| e.to_string())
}

fn parse_isolation(s: &str) -> Result<taskotron_core::Isolation, String> {
    s.parse()
        .map_err(|e: taskotron_core::isolation::IsolationError| e.to_string())
}

fn parse_override(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn value_parsers_explain_and_suggest() {
        assert!(parse_item_type("koji-build")
            .unwrap_err()
            .contains("did you mean `koji_build`"));
        assert!(parse_arch("amd64")
            .unwrap_err()
            .contains("did you mean `x86_64`"));
        assert!(parse_arch("all").is_err());
        assert_eq!(parse_override("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_override("novalue").is_err());
    }
}

/// `taskotron sti ...`.
#[derive(Debug, Subcommand)]
pub enum StiCommand {
    /// Write the tmt plan and test metadata equivalent to a checkout's STI suites.
    #[command(
        after_help = "Examples:\n  taskotron sti convert tasks/sti-smoke --dry-run\n  cp -r tasks/sti-smoke ~/sti-smoke && taskotron sti convert ~/sti-smoke\n  taskotron tests ls --root ~/sti-smoke\n\nThe mapping Fedora documented for the move from STI to tmt: a plan per\ntests*.yml (plans/sti.fmf), a test per standard-test-basic test (`run` as\n`test`, `dir` as `path`), required_packages as the plan's `prepare: how: install`,\nstandard-test-source as `discover: dist-git-source: true`. What has no\nequivalent is said and left out. The converted tree runs with `taskotron run`.\nExit codes: 0 written (or, with --dry-run, shown), 2 nothing to convert or a\nfile exists (--force overwrites)."
    )]
    Convert(StiConvertArgs),
}

/// `taskotron sti convert`.
#[derive(Debug, Args)]
pub struct StiConvertArgs {
    /// The dist-git checkout (or its tests/ directory).
    pub dir: PathBuf,
    /// Show what would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `tests` and `plans` subcommands.
#[derive(Debug, Subcommand)]
pub enum FmfCommand {
    /// Their names, one per line.
    #[command(
        after_help = "Examples:\n  taskotron tests ls --root tasks/tmt-smoke\n  taskotron tests ls --root tasks/tmt-smoke -c distro=fedora-41 --filter 'tag: quick'\n  taskotron plans ls --root tasks/tmt-smoke --format json\n\nExit codes: 0 listed, 2 the tree or an argument is invalid."
    )]
    Ls(FmfArgs),
    /// Each with its fields, for people.
    #[command(
        after_help = "Examples:\n  taskotron tests show --root tasks/tmt-smoke basic\n  taskotron plans show --root tasks/tmt-smoke -c distro=centos-stream-9\n\nExit codes: 0 shown, 2 the tree or an argument is invalid."
    )]
    Show(FmfArgs),
    /// Each with every field and tmt's defaults, as tmt exports them.
    #[command(
        after_help = "Examples:\n  taskotron tests export --root tasks/tmt-smoke\n  taskotron plans export --root tasks/tmt-smoke --format json -c distro=fedora-41 -c arch=aarch64\n\nExit codes: 0 exported, 2 the tree or an argument is invalid."
    )]
    Export(FmfArgs),
}

/// What `tests`/`plans` read and which of them they keep.
#[derive(Debug, Args)]
pub struct FmfArgs {
    /// Keep those whose name matches one of these regexes (searched, as tmt does).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// The tree: a directory holding `.fmf/version`, or one below it.
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// A context dimension for `adjust` rules: `distro=fedora-41`, `arch=x86_64`
    /// (repeatable; `dim=a,b` gives several values).
    #[arg(short = 'c', long = "context", value_name = "DIM=VALUE")]
    pub context: Vec<String>,
    /// Keep those the fmf filter holds for: `tag: quick & tier: 1` (repeatable,
    /// all must hold).
    #[arg(long, value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Keep those this condition holds for, a Python expression over the node's
    /// keys: `tier == 1 and 'quick' in tag` (repeatable, all must hold). Read by
    /// taskotron, not run by Python, so it needs no `--feeling-safe`.
    #[arg(long, value_name = "EXPR")]
    pub condition: Vec<String>,
    /// Keep those with a link matching `RELATION:TARGET` (regexes; a bare
    /// `TARGET` is any relation), as `tmt --link` (repeatable, any may match).
    #[arg(long, value_name = "RELATION:TARGET")]
    pub link: Vec<String>,
    /// Leave out those whose name matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// Output format: `human` for people, `yaml` (export's default) or `json`.
    #[arg(long, value_enum)]
    pub format: Option<FmfFormat>,
}

/// Output format of `tests` and `plans`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FmfFormat {
    /// For people.
    Human,
    /// YAML, as tmt prints it.
    Yaml,
    /// JSON: a list, one object per test or plan.
    Json,
}
