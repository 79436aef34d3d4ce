//! The services a task downloads from, all at once: a Koji (hub and files), a
//! Bodhi and a dist-git, started on loopback from one dictionary, the *mock
//! fixture* of `taskotron run --mock` and `taskotron test`:
//!
//! ```yaml
//! koji:
//!   builds: [{nvr: htop-3.3.0-1.fc41, arches: [x86_64, aarch64]}]
//!   tags: {f41-updates: [htop-3.3.0-1.fc41]}
//! bodhi:
//!   updates: [{alias: FEDORA-2026-1, builds: [htop-3.3.0-1.fc41]}]
//! distgit:
//!   rpms/htop/f41/htop.rpmlintrc: "addFilter('spelling-error')"
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use taskotron_core::directive::Services;

use crate::bodhi::{BodhiFixture, MockBodhi};
use crate::http::{Request, Response, Server};
use crate::koji::{KojiFixture, MockKoji};

/// The dictionary of a mock fixture.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesFixture {
    /// Builds and tags.
    #[serde(default)]
    pub koji: KojiFixture,
    /// Updates (their builds and comments).
    #[serde(default)]
    pub bodhi: BodhiFixture,
    /// Dist-git files: `namespace/package/ref/path` → contents.
    #[serde(default)]
    pub distgit: BTreeMap<String, String>,
    /// A `yumrepoinfo.conf` for the `yumrepoinfo` directive; `{koji}` in it is
    /// the mock Koji's URL and `{fixtures}` the fixture file's directory, so
    /// repositories can point at what the mock serves or at checked-in ones.
    #[serde(default)]
    pub yumrepoinfo: Option<String>,
}

/// A fixture that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file cannot be read.
    #[error("cannot read the mock fixture {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The YAML is invalid or has unknown keys.
    #[error("invalid mock fixture {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why, with line and column.
        reason: String,
    },
    /// A server could not start.
    #[error("cannot start the mock services: {0}")]
    Start(String),
}

/// The running mock services; they stop when this is dropped.
pub struct MockServices {
    /// The mock Koji, to inspect calls and downloads.
    pub koji: MockKoji,
    /// The mock Bodhi.
    pub bodhi: MockBodhi,
    koji_server: Server,
    bodhi_server: Server,
    distgit_server: Server,
    yumrepoinfo: Option<tempfile::NamedTempFile>,
}

impl std::fmt::Debug for MockServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServices")
            .field("koji", &self.koji_server.url())
            .field("bodhi", &self.bodhi_server.url())
            .field("distgit", &self.distgit_server.url())
            .finish()
    }
}

impl ServicesFixture {
    /// Reads a fixture file.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid fixture.
    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FixtureError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut fixture: Self =
            serde_norway::from_str(&text).map_err(|e| FixtureError::Invalid {
                path: shown,
                reason: e.to_string(),
            })?;
        // Real RPM files are named relative to the fixture, wherever it is read from.
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(text) = &mut fixture.yumrepoinfo {
            let dir = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
            *text = text.replace("{fixtures}", &dir.display().to_string());
        }
        for build in &mut fixture.koji.builds {
            for package in &mut build.packages {
                if let Some(file) = &mut package.file {
                    if file.is_relative() {
                        *file = base.join(&*file);
                    }
                }
            }
        }
        Ok(fixture)
    }
}

impl MockServices {
    /// Starts every service of `fixture` on 127.0.0.1.
    ///
    /// # Errors
    /// The fixture's Koji cannot be built, or no port could be bound.
    pub fn start(fixture: &ServicesFixture) -> Result<Self, FixtureError> {
        let koji = MockKoji::new(&fixture.koji).map_err(|e| FixtureError::Start(e.to_string()))?;
        let bodhi = MockBodhi::new(&fixture.bodhi);
        let start = |e: std::io::Error| FixtureError::Start(e.to_string());
        let koji_server = koji.serve().map_err(start)?;
        let bodhi_server = bodhi.serve().map_err(start)?;
        let files = fixture.distgit.clone();
        let distgit_server =
            Server::start(Arc::new(move |r: &Request| distgit(&files, r))).map_err(start)?;
        let yumrepoinfo = match &fixture.yumrepoinfo {
            None => None,
            Some(text) => {
                let mut file = tempfile::Builder::new()
                    .prefix("yumrepoinfo-")
                    .suffix(".conf")
                    .tempfile()
                    .map_err(start)?;
                std::io::Write::write_all(
                    &mut file,
                    text.replace("{koji}", &koji_server.url()).as_bytes(),
                )
                .map_err(start)?;
                Some(file)
            }
        };
        Ok(Self {
            koji,
            bodhi,
            koji_server,
            bodhi_server,
            distgit_server,
            yumrepoinfo,
        })
    }

    /// `base` with every download service pointing at these mocks.
    pub fn services(&self, base: Services) -> Services {
        Services {
            koji_url: format!("{}/kojihub", self.koji_server.url()),
            koji_pkgs_url: self.koji_server.url(),
            bodhi_url: self.bodhi_server.url(),
            distgit_url: self.distgit_server.url(),
            yumrepoinfo: self
                .yumrepoinfo
                .as_ref()
                .map(|f| f.path().to_path_buf())
                .or(base.yumrepoinfo.clone()),
            ..base
        }
    }

    /// The Bodhi's URL (for `bodhi_url` in a config file).
    pub fn bodhi_url(&self) -> String {
        self.bodhi_server.url()
    }
}

/// Dist-git's raw file URLs: `/<namespace>/<package>/raw/<ref>/f/<path>`.
fn distgit(files: &BTreeMap<String, String>, r: &Request) -> Response {
    let parts: Vec<&str> = r.path.trim_start_matches('/').splitn(6, '/').collect();
    if let [namespace, package, "raw", gitref, "f", path] = parts.as_slice() {
        if let Some(text) = files.get(&format!("{namespace}/{package}/{gitref}/{path}")) {
            return Response::bytes(200, "text/plain; charset=utf-8", text.clone().into_bytes());
        }
    }
    Response::html(404, "<h1>Page not found</h1>")
}
