//! A Koji that answers like the real hub for what taskotron asks (`getBuild`,
//! `listRPMs`, `listTagged`, `getLatestBuilds`, `system.multicall`; `<nil/>` and
//! `<i8>` in answers, keyword arguments as Koji's client sends them, faults with
//! Koji's codes and texts) and serves a package file server with **real RPM files**,
//! generated from the dictionary, under koji's own path layout, so `rpm`, `rpmlint`
//! and friends can read what a task downloads, or serves **given RPM files** (a
//! package's `file:`, such as the exact RPMs of a bug report) with Koji's
//! `payloadhash` computed from them. Per-file faults make a transfer break half
//! way, arrive corrupt or be missing.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dxr::{FaultResponse, MethodCall, MethodResponse, Value};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use taskotron_core::download::payload_md5;
use taskotron_core::koji::xmlrpc::{from_json, to_json};

use crate::http::{Request, Response, Server};

/// One package (sub-package) of a build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSpec {
    /// Its name; the build's name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Built once as `noarch` instead of once per arch.
    #[serde(default)]
    pub noarch: bool,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// License tag.
    #[serde(default)]
    pub license: Option<String>,
    /// `Requires:`, each `name` or `name OP version` (`python(abi) = 3.12`).
    #[serde(default)]
    pub requires: Vec<String>,
    /// `Provides:`, the same way.
    #[serde(default)]
    pub provides: Vec<String>,
    /// Files: path → contents. Contents starting with `#!` are installed 0755.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A real RPM file, served as it is instead of a generated one: its name and
    /// arch come from its header, its version and release must be the build's.
    /// Relative to the fixture file. The other keys do not apply to it.
    #[serde(default)]
    pub file: Option<std::path::PathBuf>,
}

/// A fault on one served file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFault {
    /// The connection closes after half the file (the full length announced).
    Truncated,
    /// One byte of the payload is flipped; the length is right.
    Corrupt,
    /// The file server answers 404.
    Missing,
}

/// A build, in the dictionary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// `name-version-release`.
    pub nvr: String,
    /// Koji's build id; numbered from 1000 when absent.
    #[serde(default)]
    pub id: Option<i64>,
    /// Epoch.
    #[serde(default)]
    pub epoch: Option<u32>,
    /// `COMPLETE` (default), `BUILDING`, `DELETED`, `FAILED` or `CANCELED`.
    #[serde(default)]
    pub state: Option<String>,
    /// Who built it.
    #[serde(default)]
    pub owner: Option<String>,
    /// The binary arches built (Koji's names: `x86_64`, `i686`, `armv7hl`, ...).
    #[serde(default = "default_arches")]
    pub arches: Vec<String>,
    /// The packages; one named after the build when empty.
    #[serde(default)]
    pub packages: Vec<PackageSpec>,
    /// The text of each arch's `build.log`; none are served when empty.
    #[serde(default)]
    pub build_log: Option<String>,
    /// Storage volume (`DEFAULT` when absent).
    #[serde(default)]
    pub volume: Option<String>,
    /// Where it was built from, as `getBuild`'s `source` says (`git+URL#COMMIT`); a
    /// made-up Fedora dist-git commit when absent.
    #[serde(default)]
    pub source: Option<String>,
    /// Faults by file name (`htop-3.3.0-1.fc41.x86_64.rpm: truncated`).
    #[serde(default)]
    pub faults: BTreeMap<String, FileFault>,
}

fn default_arches() -> Vec<String> {
    vec!["x86_64".into()]
}

/// The dictionary a mock Koji starts from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KojiFixture {
    /// The builds.
    #[serde(default)]
    pub builds: Vec<BuildSpec>,
    /// Tags and the N-V-Rs tagged in them, oldest first (the last of a package is
    /// its latest, as Koji orders by tagging event).
    #[serde(default)]
    pub tags: BTreeMap<String, Vec<String>>,
    /// Tag inheritance: each tag's parents, in priority order (`f41-updates: [f41]`).
    /// `getLatestBuilds` always follows it, `listTagged` with `inherit=True`.
    #[serde(default)]
    pub inheritance: BTreeMap<String, Vec<String>>,
}

/// A dictionary that cannot become a Koji.
#[derive(Debug, thiserror::Error)]
pub enum KojiFixtureError {
    /// An N-V-R without three parts.
    #[error("`{0}` is not name-version-release")]
    Nvr(String),
    /// A tag names a build the dictionary does not have.
    #[error("tag `{tag}` names `{nvr}`, which is not among the builds")]
    UnknownBuild {
        /// The tag.
        tag: String,
        /// The missing build.
        nvr: String,
    },
    /// An unknown state name.
    #[error("build `{nvr}` has state `{state}`; expected COMPLETE, BUILDING, DELETED, FAILED or CANCELED")]
    State {
        /// The build.
        nvr: String,
        /// What it said.
        state: String,
    },
    /// rpm-rs refused to build a package.
    #[error("cannot generate {file}: {reason}")]
    Rpm {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

struct Built {
    info: Json,
    rpms: Vec<Json>,
}

struct Served {
    bytes: Vec<u8>,
    fault: Option<FileFault>,
}

#[derive(Default)]
struct Inner {
    builds: Vec<Built>,
    tags: BTreeMap<String, Vec<usize>>,
    inheritance: BTreeMap<String, Vec<String>>,
    files: BTreeMap<String, Served>,
    calls: Mutex<Vec<String>>,
    bodies: Mutex<Vec<String>>,
    downloads: AtomicUsize,
}

/// The mock service: hub at `/kojihub`, files under `/packages/...`.
#[derive(Clone)]
pub struct MockKoji {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MockKoji {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockKoji")
            .field("builds", &self.inner.builds.len())
            .field("files", &self.inner.files.len())
            .finish()
    }
}

/// Fixed build time, so the generated files are the same on every run.
const BUILD_TIME: u32 = 1_700_000_000;

fn split_nvr(nvr: &str) -> Result<(String, String, String), KojiFixtureError> {
    taskotron_core::item::split_nvr(nvr)
        .map(|(n, v, r)| (n.into(), v.into(), r.into()))
        .ok_or_else(|| KojiFixtureError::Nvr(nvr.into()))
}

fn dependency(spec: &str) -> rpm::Dependency {
    let mut words = spec.split_whitespace();
    let name = words.next().unwrap_or_default().to_string();
    match (words.next(), words.next()) {
        (Some("="), Some(v)) => rpm::Dependency::eq(name, v),
        (Some(">="), Some(v)) => rpm::Dependency::greater_eq(name, v),
        (Some(">"), Some(v)) => rpm::Dependency::greater(name, v),
        (Some("<="), Some(v)) => rpm::Dependency::less_eq(name, v),
        (Some("<"), Some(v)) => rpm::Dependency::less(name, v),
        _ => rpm::Dependency::any(name),
    }
}

struct RpmFile<'a> {
    name: &'a str,
    version: &'a str,
    release: &'a str,
    epoch: Option<u32>,
    arch: &'a str,
    package: &'a PackageSpec,
    owner: &'a str,
}

fn generate(f: &RpmFile<'_>) -> Result<Vec<u8>, String> {
    let p = f.package;
    let summary = p
        .summary
        .clone()
        .unwrap_or_else(|| format!("The {} package", f.name));
    let license = p.license.clone().unwrap_or_else(|| "MIT".into());
    let config = rpm::BuildConfig::default()
        .source_date(BUILD_TIME)
        .compression(rpm::CompressionType::Gzip);
    let mut b = rpm::PackageBuilder::new(f.name, f.version, &license, f.arch, &summary);
    b.using_config(config)
        .release(f.release)
        .description(format!("{summary}.\nGenerated by the taskotron mock Koji."))
        .url("https://example.org/")
        .vendor("Fedora Project")
        .packager(f.owner)
        .group("Unspecified")
        .build_host("buildvm.mock.koji");
    b.add_changelog_entry(
        format!(
            "{} <{}@fedoraproject.org> - {}-{}",
            f.owner, f.owner, f.version, f.release
        ),
        "- Built by the taskotron mock Koji",
        BUILD_TIME,
    );
    if let Some(e) = f.epoch {
        b.epoch(e);
    }
    if f.arch != "src" {
        for (path, content) in &p.files {
            let mode = if content.starts_with("#!") || path.contains("/bin/") {
                0o100_755
            } else {
                0o100_644
            };
            let mut options = rpm::FileOptions::new(path.clone()).mode(mode);
            if path.starts_with("/usr/share/doc/") {
                options = options.doc();
            }
            b.with_file_contents(content.clone().into_bytes(), options)
                .map_err(|e| e.to_string())?;
        }
        for r in &p.requires {
            b.requires(dependency(r));
        }
        for r in &p.provides {
            b.provides(dependency(r));
        }
    } else {
        let spec = format!(
            "Name: {}\nVersion: {}\nRelease: {}\nSummary: {summary}\nLicense: {license}\n",
            f.name, f.version, f.release
        );
        b.with_file_contents(
            spec.into_bytes(),
            rpm::FileOptions::new(format!("./{}.spec", f.name)),
        )
        .map_err(|e| e.to_string())?;
    }
    let package = b.build().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    package.write(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// A real RPM file a fixture names.
struct Given {
    name: String,
    arch: String,
    payloadhash: String,
    bytes: Vec<u8>,
}

/// Reads a given RPM file and checks it belongs to the build.
fn read_given(
    path: &std::path::Path,
    version: &str,
    release: &str,
    nvr: &str,
) -> Result<Given, KojiFixtureError> {
    let fail = |reason: String| KojiFixtureError::Rpm {
        file: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let meta = rpm::PackageMetadata::parse(&mut &bytes[..])
        .map_err(|e| fail(format!("not a readable RPM: {e}")))?;
    let text = |r: Result<&str, rpm::Error>| r.map(str::to_string).map_err(|e| fail(e.to_string()));
    let name = text(meta.get_name())?;
    let (v, r) = (text(meta.get_version())?, text(meta.get_release())?);
    if v != version || r != release {
        return Err(fail(format!(
            "it is {name}-{v}-{r}, not a package of the build {nvr}"
        )));
    }
    let arch = if meta.is_source_package() {
        "src".to_string()
    } else {
        text(meta.get_arch())?
    };
    let payloadhash = payload_md5(&bytes[..]).map_err(fail)?;
    Ok(Given {
        name,
        arch,
        payloadhash,
        bytes,
    })
}

fn state_number(nvr: &str, state: Option<&str>) -> Result<i64, KojiFixtureError> {
    Ok(match state.unwrap_or("COMPLETE") {
        "BUILDING" => 0,
        "COMPLETE" => 1,
        "DELETED" => 2,
        "FAILED" => 3,
        "CANCELED" => 4,
        other => {
            return Err(KojiFixtureError::State {
                nvr: nvr.into(),
                state: other.into(),
            })
        }
    })
}

impl MockKoji {
    /// A Koji with the dictionary's builds and tags; every RPM is generated now.
    ///
    /// # Errors
    /// A malformed N-V-R, a tag naming an unknown build, or an RPM that cannot be
    /// generated.
    pub fn new(fixture: &KojiFixture) -> Result<Self, KojiFixtureError> {
        let mut inner = Inner::default();
        let mut next_rpm = 5000;
        for (i, spec) in fixture.builds.iter().enumerate() {
            let (name, version, release) = split_nvr(&spec.nvr)?;
            let id = spec.id.unwrap_or(1000 + i as i64);
            let owner = spec.owner.clone().unwrap_or_else(|| "packager".into());
            let volume = spec.volume.clone().unwrap_or_else(|| "DEFAULT".into());
            let state = state_number(&spec.nvr, spec.state.as_deref())?;
            let info = json!({
                "id": id, "build_id": id, "name": name, "package_name": name,
                "package_id": 100 + i, "version": version, "release": release,
                "epoch": spec.epoch, "nvr": spec.nvr, "state": state, "draft": false,
                "task_id": 100_000_000 + id, "owner_id": 1, "owner_name": owner,
                "volume_id": i64::from(volume != "DEFAULT"), "volume_name": volume,
                "creation_event_id": 2_000_000 + id,
                "creation_time": "2026-01-01 00:00:00.000000+00:00", "creation_ts": 1_767_225_600.0,
                "start_time": "2026-01-01 00:00:00.000000+00:00", "start_ts": 1_767_225_600.0,
                "completion_time": "2026-01-01 00:30:00.000000+00:00", "completion_ts": 1_767_227_400.0,
                "source": spec.source.clone().unwrap_or_else(|| format!("git+https://src.fedoraproject.org/rpms/{name}.git#0000000")),
                "extra": null, "cg_id": null, "cg_name": null,
                "promotion_time": null, "promotion_ts": null, "promoter_id": null, "promoter_name": null,
            });
            let default_package = PackageSpec {
                name: None,
                noarch: false,
                summary: None,
                license: None,
                requires: Vec::new(),
                provides: Vec::new(),
                files: BTreeMap::from([(
                    format!("/usr/share/doc/{name}/README"),
                    format!("{name}\n"),
                )]),
                file: None,
            };
            let packages = if spec.packages.is_empty() {
                std::slice::from_ref(&default_package)
            } else {
                &spec.packages[..]
            };
            let given: Vec<Given> = packages
                .iter()
                .filter_map(|p| p.file.as_deref())
                .map(|f| read_given(f, &version, &release, &spec.nvr))
                .collect::<Result<_, _>>()?;
            let generated: Vec<&PackageSpec> =
                packages.iter().filter(|p| p.file.is_none()).collect();
            let mut wanted: Vec<(&PackageSpec, String, &str)> = Vec::new();
            // The source RPM is generated from the first generated package, unless
            // a given file is the source RPM.
            if let (Some(first), false) = (generated.first(), given.iter().any(|g| g.arch == "src"))
            {
                wanted.push((first, name.clone(), "src"));
            }
            for p in generated {
                let pname = p.name.clone().unwrap_or_else(|| name.clone());
                if p.noarch {
                    wanted.push((p, pname, "noarch"));
                } else {
                    for a in &spec.arches {
                        wanted.push((p, pname.clone(), a.as_str()));
                    }
                }
            }
            let base = if volume == "DEFAULT" {
                String::new()
            } else {
                format!("/vol/{volume}")
            };
            let dir = format!("{base}/packages/{name}/{version}/{release}");
            let mut rpms = Vec::new();
            for (p, pname, arch) in wanted {
                let file = format!("{pname}-{version}-{release}.{arch}.rpm");
                let bytes = generate(&RpmFile {
                    name: &pname,
                    version: &version,
                    release: &release,
                    epoch: spec.epoch,
                    arch,
                    package: p,
                    owner: &owner,
                })
                .map_err(|reason| KojiFixtureError::Rpm {
                    file: file.clone(),
                    reason,
                })?;
                let hash = payload_md5(&bytes[..]).map_err(|reason| KojiFixtureError::Rpm {
                    file: file.clone(),
                    reason,
                })?;
                next_rpm += 1;
                rpms.push(json!({
                    "id": next_rpm, "name": pname, "version": version, "release": release,
                    "nvr": format!("{pname}-{version}-{release}"), "arch": arch,
                    "epoch": spec.epoch, "draft": false, "payloadhash": hash,
                    "size": bytes.len(), "buildtime": BUILD_TIME, "build_id": id,
                    "buildroot_id": 7000 + id, "external_repo_id": 0,
                    "external_repo_name": "INTERNAL", "metadata_only": false, "extra": null,
                }));
                inner.files.insert(
                    format!("{dir}/{arch}/{file}"),
                    Served {
                        bytes,
                        fault: spec.faults.get(&file).copied(),
                    },
                );
            }
            for g in given {
                next_rpm += 1;
                rpms.push(json!({
                    "id": next_rpm, "name": g.name, "version": version, "release": release,
                    "nvr": format!("{}-{version}-{release}", g.name), "arch": g.arch,
                    "epoch": spec.epoch, "draft": false, "payloadhash": g.payloadhash,
                    "size": g.bytes.len(), "buildtime": BUILD_TIME, "build_id": id,
                    "buildroot_id": 7000 + id, "external_repo_id": 0,
                    "external_repo_name": "INTERNAL", "metadata_only": false, "extra": null,
                }));
                let file = format!("{}-{version}-{release}.{}.rpm", g.name, g.arch);
                let fault = spec.faults.get(&file).copied();
                inner.files.insert(
                    format!("{dir}/{}/{file}", g.arch),
                    Served {
                        bytes: g.bytes,
                        fault,
                    },
                );
            }
            if let Some(log) = &spec.build_log {
                let mut arches: Vec<&str> = spec.arches.iter().map(String::as_str).collect();
                if packages.iter().any(|p| p.noarch) {
                    arches.push("noarch");
                }
                for a in arches {
                    inner.files.insert(
                        format!("{dir}/data/logs/{a}/build.log"),
                        Served {
                            bytes: log.clone().into_bytes(),
                            fault: spec.faults.get(&format!("build.log.{a}")).copied(),
                        },
                    );
                }
            }
            inner.builds.push(Built { info, rpms });
        }
        for (tag, nvrs) in &fixture.tags {
            let mut indexes = Vec::new();
            for nvr in nvrs {
                let i = inner
                    .builds
                    .iter()
                    .position(|b| b.info["nvr"] == json!(nvr))
                    .ok_or_else(|| KojiFixtureError::UnknownBuild {
                        tag: tag.clone(),
                        nvr: nvr.clone(),
                    })?;
                indexes.push(i);
            }
            inner.tags.insert(tag.clone(), indexes);
        }
        for (tag, parents) in &fixture.inheritance {
            for t in std::iter::once(tag).chain(parents) {
                if !inner.tags.contains_key(t) {
                    inner.tags.insert(t.clone(), Vec::new());
                }
            }
        }
        inner.inheritance = fixture.inheritance.clone();
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Reads the dictionary from YAML.
    ///
    /// # Errors
    /// Invalid YAML or a dictionary [`MockKoji::new`] refuses.
    pub fn from_yaml(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let fixture: KojiFixture = serde_norway::from_str(text)?;
        Ok(Self::new(&fixture)?)
    }

    /// Serves hub and files on 127.0.0.1: the hub is `<url>/kojihub`, the file
    /// server's `topurl` is `<url>`.
    ///
    /// # Errors
    /// No port could be bound.
    pub fn serve(&self) -> std::io::Result<Server> {
        let me = self.clone();
        Server::start(Arc::new(move |r: &Request| me.handle(r)))
    }

    /// The XML-RPC methods called so far, multicalls expanded, in order.
    pub fn calls(&self) -> Vec<String> {
        self.inner
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The XML-RPC request bodies received, as sent.
    pub fn requests(&self) -> Vec<String> {
        self.inner
            .bodies
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// How many files were served whole or in part.
    pub fn downloads(&self) -> usize {
        self.inner.downloads.load(Ordering::SeqCst)
    }

    /// The paths of every file served, for tests and fixtures.
    pub fn files(&self) -> Vec<String> {
        self.inner.files.keys().cloned().collect()
    }

    /// Answers one request.
    pub fn handle(&self, r: &Request) -> Response {
        if r.method == "POST" && r.path.trim_end_matches('/') == "/kojihub" {
            return self.hub(&r.body);
        }
        if r.method != "GET" {
            return Response::html(405, "<h1>Method Not Allowed</h1>");
        }
        let Some(file) = self.inner.files.get(&r.path) else {
            return Response::html(404, "<h1>Not Found</h1>");
        };
        self.inner.downloads.fetch_add(1, Ordering::SeqCst);
        let kind = if r.path.ends_with(".rpm") {
            "application/x-rpm"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut response = Response::bytes(200, kind, file.bytes.clone());
        match file.fault {
            Some(FileFault::Missing) => return Response::html(404, "<h1>Not Found</h1>"),
            Some(FileFault::Truncated) => response.cut_at = Some(file.bytes.len() / 2),
            Some(FileFault::Corrupt) => {
                if let Some(b) = response.body.last_mut() {
                    *b ^= 0xff;
                }
            }
            None => {}
        }
        response
    }

    fn hub(&self, body: &[u8]) -> Response {
        let text = String::from_utf8_lossy(body);
        if let Ok(mut b) = self.inner.bodies.lock() {
            b.push(text.clone().into_owned());
        }
        let xml = |s: Result<String, dxr::Error>| {
            Response::bytes(200, "text/xml", s.unwrap_or_default().into_bytes())
        };
        let Ok(call) =
            MethodCall::from_xml(text.trim_start_matches("<?xml version='1.0'?>").trim())
        else {
            return xml(FaultResponse {
                fault: dxr::Fault::new(1000, "koji.GenericError: malformed XML-RPC request".into()),
            }
            .to_xml());
        };
        match self.dispatch(&call.name, &call.params) {
            Ok(value) => xml(MethodResponse { value }.to_xml()),
            Err(fault) => xml(FaultResponse { fault }.to_xml()),
        }
    }

    fn record(&self, method: &str) {
        if let Ok(mut c) = self.inner.calls.lock() {
            c.push(method.to_string());
        }
    }

    fn dispatch(&self, method: &str, params: &[Value]) -> Result<Value, dxr::Fault> {
        if method == "system.multicall" {
            self.record(method);
            let calls = dxr::multicall::from_multicall_params(params.to_vec())
                .map_err(|e| dxr::Fault::new(1000, format!("koji.GenericError: {e}")))?;
            let results = calls
                .into_iter()
                .map(|c| match c {
                    Ok((name, p)) => self.dispatch(&name, &p),
                    Err(e) => Err(dxr::Fault::new(1000, format!("koji.GenericError: {e}"))),
                })
                .collect();
            return Ok(dxr::multicall::into_multicall_response(results));
        }
        self.record(method);
        let (args, kwargs) = split_args(params);
        let kw = |k: &str| kwargs.get(k).cloned().unwrap_or(Json::Null);
        let arg = |i: usize, k: &str| args.get(i).cloned().unwrap_or_else(|| kw(k));
        let answer = match method {
            "getBuild" => self
                .get_build(&arg(0, "buildInfo"))
                .map(|b| b.info.clone())
                .unwrap_or(Json::Null),
            "listRPMs" => {
                let id = arg(0, "buildID");
                let arches: Option<Vec<String>> = serde_json::from_value(kw("arches")).ok();
                match self.get_build(&id) {
                    Some(b) => Json::Array(
                        b.rpms
                            .iter()
                            .filter(|r| {
                                arches
                                    .as_ref()
                                    .is_none_or(|a| a.iter().any(|x| r["arch"] == json!(x)))
                            })
                            .cloned()
                            .collect(),
                    ),
                    None => Json::Array(Vec::new()),
                }
            }
            "listTagged" | "getLatestBuilds" => {
                let tag = arg(0, "tag");
                let tag = tag.as_str().unwrap_or_default();
                let latest = method == "getLatestBuilds" || kw("latest").as_bool().unwrap_or(false);
                let inherit =
                    method == "getLatestBuilds" || kw("inherit").as_bool().unwrap_or(false);
                let package = kw("package");
                if !self.inner.tags.contains_key(tag) {
                    return Err(dxr::Fault::new(
                        1000,
                        format!("koji.GenericError: No such tagInfo: '{tag}'"),
                    ));
                }
                let order = if inherit {
                    self.lineage(tag)
                } else {
                    vec![tag.to_string()]
                };
                let mut chosen: Vec<(&Built, &str)> = Vec::new();
                // The tag first, then its parents; within a tag the newest tagging
                // first, as Koji orders them. With `latest` the first of a package wins.
                for t in &order {
                    let indexes = self.inner.tags.get(t).map_or(&[][..], Vec::as_slice);
                    for &i in indexes.iter().rev() {
                        let b = &self.inner.builds[i];
                        if package.is_string() && b.info["name"] != package {
                            continue;
                        }
                        if latest && chosen.iter().any(|(c, _)| c.info["name"] == b.info["name"]) {
                            continue;
                        }
                        chosen.push((b, t.as_str()));
                    }
                }
                Json::Array(
                    chosen
                        .into_iter()
                        .map(|(b, t)| {
                            let mut info = b.info.clone();
                            info["tag_name"] = json!(t);
                            info
                        })
                        .collect(),
                )
            }
            "getAPIVersion" => json!(1),
            other => {
                return Err(dxr::Fault::new(
                    1000,
                    format!("koji.GenericError: Invalid method: {other}"),
                ))
            }
        };
        Ok(from_json(&answer))
    }

    /// `tag` and its ancestors, depth first in priority order, each once.
    fn lineage(&self, tag: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut stack = vec![tag.to_string()];
        while let Some(t) = stack.pop() {
            if out.contains(&t) {
                continue;
            }
            if let Some(parents) = self.inner.inheritance.get(&t) {
                stack.extend(parents.iter().rev().cloned());
            }
            out.push(t);
        }
        out
    }

    fn get_build(&self, key: &Json) -> Option<&Built> {
        self.inner.builds.iter().find(|b| match key {
            Json::Number(_) => b.info["id"] == *key,
            Json::String(s) => {
                b.info["nvr"] == json!(s)
                    || s.parse::<i64>().is_ok_and(|i| b.info["id"] == json!(i))
            }
            Json::Object(m) => ["name", "version", "release"]
                .iter()
                .all(|k| m.get(*k) == Some(&b.info[*k])),
            _ => false,
        })
    }
}

/// Positional arguments and the keyword struct Koji's client appends.
fn split_args(params: &[Value]) -> (Vec<Json>, serde_json::Map<String, Json>) {
    let mut args: Vec<Json> = params.iter().map(to_json).collect();
    let mut kwargs = serde_json::Map::new();
    if let Some(Json::Object(last)) = args.last() {
        if last.get("__starstar") == Some(&Json::Bool(true)) {
            kwargs = last.clone();
            kwargs.remove("__starstar");
            args.pop();
        }
    }
    (args, kwargs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpms_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tasks/python-versions/fixtures/rpms")
    }

    fn fixture(nvr: &str, files: &[&str]) -> KojiFixture {
        let packages: Vec<String> = files
            .iter()
            .map(|f| format!("    - file: {}\n", rpms_dir().join(f).display()))
            .collect();
        serde_norway::from_str(&format!(
            "builds:\n  - nvr: {nvr}\n    packages:\n{}",
            packages.join("")
        ))
        .unwrap()
    }

    #[test]
    fn given_rpm_files_are_served_as_they_are_with_their_payloadhash() {
        let koji = MockKoji::new(&fixture(
            "pyserial-2.7-6.fc41",
            &[
                "pyserial-2.7-6.fc41.src.rpm",
                "python3-pyserial-2.7-6.fc41.noarch.rpm",
            ],
        ))
        .unwrap();
        // No source RPM is generated beside the given one.
        assert_eq!(
            koji.files(),
            [
                "/packages/pyserial/2.7/6.fc41/noarch/python3-pyserial-2.7-6.fc41.noarch.rpm",
                "/packages/pyserial/2.7/6.fc41/src/pyserial-2.7-6.fc41.src.rpm",
            ]
        );
        let file = rpms_dir().join("python3-pyserial-2.7-6.fc41.noarch.rpm");
        let bytes = std::fs::read(&file).unwrap();
        let r = koji.handle(&Request {
            method: "GET".into(),
            path: koji.files()[0].clone(),
            ..Request::default()
        });
        assert_eq!(r.body, bytes);
        let rpms = &koji.inner.builds[0].rpms;
        let noarch = rpms.iter().find(|r| r["arch"] == "noarch").unwrap();
        assert_eq!(noarch["payloadhash"], payload_md5(&bytes[..]).unwrap());
        assert_eq!(noarch["name"], "python3-pyserial");
        assert_eq!(noarch["size"], bytes.len());
    }

    #[test]
    fn a_given_rpm_of_another_build_or_no_rpm_at_all_is_refused() {
        let e = MockKoji::new(&fixture(
            "pyserial-2.8-1.fc41",
            &["python3-pyserial-2.7-6.fc41.noarch.rpm"],
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains(
                "it is python3-pyserial-2.7-6.fc41, not a package of the build pyserial-2.8-1.fc41"
            ),
            "{e}"
        );
        let e = MockKoji::new(&fixture("pyserial-2.7-6.fc41", &["build.sh"])).unwrap_err();
        assert!(e.to_string().contains("not a readable RPM"), "{e}");
        let e = MockKoji::new(&fixture("pyserial-2.7-6.fc41", &["nothere.rpm"])).unwrap_err();
        assert!(e.to_string().contains("nothere.rpm"), "{e}");
    }
}
