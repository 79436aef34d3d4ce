//! The hub calls a download needs: `getBuild`, `listRPMs`, `listTagged` and
//! `getLatestBuilds`, batched with `system.multicall` where there are many.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use super::xmlrpc::{int, kwargs, string, XmlRpc};
use super::KojiError;

/// Koji's state number of a finished, successful build.
pub const BUILD_COMPLETE: i64 = 1;

/// A build, as `getBuild` and `listTagged` describe it (the fields taskotron uses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawBuild")]
pub struct Build {
    /// The build id (`id` in `getBuild`, `build_id` in both; either will do).
    pub id: i64,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// Epoch, `null` when none.
    pub epoch: Option<i64>,
    /// `name-version-release`.
    pub nvr: String,
    /// 0 BUILDING, 1 COMPLETE, 2 DELETED, 3 FAILED, 4 CANCELED.
    pub state: i64,
    /// The storage volume; `DEFAULT` unless archived.
    pub volume_name: Option<String>,
    /// The tag, in `listTagged` answers.
    pub tag_name: Option<String>,
    /// Where it was built from (`git+https://src.fedoraproject.org/rpms/grep.git#<commit>`),
    /// in `getBuild` answers.
    pub source: Option<String>,
    /// The Koji task that built it (`null` for an imported build): what Fedora CI
    /// messages call the artifact's id.
    pub task_id: Option<i64>,
    /// Who built it: a CI message's `issuer`.
    pub owner_name: Option<String>,
}

/// The wire form: hubs send `id`, `build_id` or both.
#[derive(Deserialize)]
struct RawBuild {
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    build_id: Option<i64>,
    name: String,
    version: String,
    release: String,
    #[serde(default)]
    epoch: Option<i64>,
    nvr: String,
    state: i64,
    #[serde(default)]
    volume_name: Option<String>,
    #[serde(default)]
    tag_name: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    task_id: Option<i64>,
    #[serde(default)]
    owner_name: Option<String>,
}

impl TryFrom<RawBuild> for Build {
    type Error = String;

    fn try_from(r: RawBuild) -> Result<Self, String> {
        Ok(Self {
            id: r
                .build_id
                .or(r.id)
                .ok_or_else(|| format!("build `{}` has no id", r.nvr))?,
            name: r.name,
            version: r.version,
            release: r.release,
            epoch: r.epoch,
            nvr: r.nvr,
            state: r.state,
            volume_name: r.volume_name,
            tag_name: r.tag_name,
            source: r.source,
            task_id: r.task_id,
            owner_name: r.owner_name,
        })
    }
}

impl Build {
    fn state_name(&self) -> &'static str {
        match self.state {
            0 => "BUILDING",
            1 => "COMPLETE",
            2 => "DELETED",
            3 => "FAILED",
            4 => "CANCELED",
            _ => "in an unknown state",
        }
    }
}

/// One RPM of a build, as `listRPMs` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Rpm {
    /// The RPM id.
    pub id: i64,
    /// Sub-package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Release.
    pub release: String,
    /// `x86_64`, `i686`, `noarch`, `src`, ...
    pub arch: String,
    /// Epoch.
    #[serde(default)]
    pub epoch: Option<i64>,
    /// MD5 of the RPM's header and payload (its `sigmd5`), hex.
    pub payloadhash: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// The build it belongs to.
    pub build_id: i64,
}

impl Rpm {
    /// `name-version-release.arch.rpm`.
    pub fn filename(&self) -> String {
        format!(
            "{}-{}-{}.{}.rpm",
            self.name, self.version, self.release, self.arch
        )
    }

    /// Debuginfo and debugsource sub-packages (the original counts both as
    /// debuginfo).
    pub fn is_debuginfo(&self) -> bool {
        self.name.ends_with("-debuginfo")
            || self.name.ends_with("-debugsource")
            || self.name.contains("-debuginfo-")
    }
}

/// A client of one Koji hub.
#[derive(Debug)]
pub struct KojiClient {
    rpc: XmlRpc,
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, v: Json) -> Result<T, KojiError> {
    serde_json::from_value(v).map_err(|e| KojiError::Protocol(format!("{what}: {e}")))
}

/// Koji's answer for a tag that does not exist.
fn no_such_tag(message: &str) -> bool {
    message.contains("No such tagInfo") || message.contains("TagError")
}

impl KojiClient {
    /// A client of the hub at `hub` (`https://koji.fedoraproject.org/kojihub`).
    pub fn new(hub: &str, timeout: Duration) -> Self {
        Self {
            rpc: XmlRpc::new(hub, timeout),
        }
    }

    /// The COMPLETE build `nvr`.
    ///
    /// # Errors
    /// Koji does not know it, it is not complete, or the hub fails.
    pub fn build(&self, nvr: &str) -> Result<Build, KojiError> {
        let build = self
            .lookup(nvr)?
            .ok_or_else(|| KojiError::UnknownBuild(nvr.to_string()))?;
        if build.state != BUILD_COMPLETE {
            return Err(KojiError::NotComplete {
                nvr: build.nvr.clone(),
                state: build.state_name(),
            });
        }
        Ok(build)
    }

    /// The build `nvr` in whatever state it is, `None` when Koji does not know it.
    ///
    /// # Errors
    /// The hub fails.
    pub fn lookup(&self, nvr: &str) -> Result<Option<Build>, KojiError> {
        let answer = self.rpc.call("getBuild", vec![string(nvr)])?;
        if answer.is_null() {
            return Ok(None);
        }
        decode("getBuild", answer).map(Some)
    }

    /// The RPMs of each build: one `listRPMs` for one build, one multicall for many.
    ///
    /// # Errors
    /// The hub fails or faults on any of them.
    pub fn rpms(&self, builds: &[Build]) -> Result<Vec<Vec<Rpm>>, KojiError> {
        if let [one] = builds {
            let answer = self
                .rpc
                .call("listRPMs", vec![kwargs(vec![("buildID", int(one.id))])])?;
            return Ok(vec![decode("listRPMs", answer)?]);
        }
        let calls = builds
            .iter()
            .map(|b| {
                (
                    "listRPMs".to_string(),
                    vec![kwargs(vec![("buildID", int(b.id))])],
                )
            })
            .collect();
        self.rpc
            .multicall(calls)?
            .into_iter()
            .map(|r| match r {
                Ok(v) => decode("listRPMs", v),
                Err(f) => Err(KojiError::Fault {
                    code: f.code(),
                    message: f.string().to_string(),
                }),
            })
            .collect()
    }

    /// The builds tagged in `tag`; with `latest`, the newest of each package.
    ///
    /// # Errors
    /// The tag does not exist, or the hub fails.
    pub fn tagged(&self, tag: &str, latest: bool) -> Result<Vec<Build>, KojiError> {
        let answer = self
            .rpc
            .call(
                "listTagged",
                vec![
                    string(tag),
                    kwargs(vec![("latest", dxr::Value::Boolean(latest))]),
                ],
            )
            .map_err(|e| match e {
                KojiError::Fault { message, .. } if no_such_tag(&message) => {
                    KojiError::UnknownTag(tag.to_string())
                }
                other => other,
            })?;
        decode("listTagged", answer)
    }

    /// The latest build of `package` in each of `tags` (inheritance on, as
    /// `getLatestBuilds` always is), in one multicall; a tag that does not exist
    /// has none.
    ///
    /// # Errors
    /// The hub fails.
    pub fn latest(&self, tags: &[String], package: &str) -> Result<Vec<Option<Build>>, KojiError> {
        let calls = tags
            .iter()
            .map(|t| {
                (
                    "getLatestBuilds".to_string(),
                    vec![string(t), kwargs(vec![("package", string(package))])],
                )
            })
            .collect();
        self.rpc
            .multicall(calls)?
            .into_iter()
            .map(|r| match r {
                Ok(v) => {
                    let mut builds: Vec<Build> = decode("getLatestBuilds", v)?;
                    Ok(if builds.is_empty() {
                        None
                    } else {
                        Some(builds.remove(0))
                    })
                }
                Err(f) if no_such_tag(f.string()) => Ok(None),
                Err(f) => Err(KojiError::Fault {
                    code: f.code(),
                    message: f.string().to_string(),
                }),
            })
            .collect()
    }
}
