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
use taskotron_core::diagnostic::Location;
use taskotron_core::directive::Services;
use taskotron_core::suggest::did_you_mean;
use taskotron_core::Diagnostic;

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

/// The JSON Schema of a mock fixture (`taskotron test --schema fixture`), for
/// editors and for people; [`ServicesFixture::load`] reads the same keys (a test
/// compares the two at every level).
pub const SCHEMA: &str = include_str!("fixture.schema.json");

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
    /// The YAML is invalid or has unknown keys: where, what was expected and
    /// the near miss.
    #[error("invalid mock fixture: {}", .0.message)]
    Invalid(Box<Diagnostic>),
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
            path: shown,
            reason: e.to_string(),
        })?;
        let mut fixture: Self = serde_norway::from_str(&text)
            .map_err(|e| FixtureError::Invalid(Box::new(invalid(&e, &text, path))))?;
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

impl FixtureError {
    /// The problem as a diagnostic, with the place in the file when it has one.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            FixtureError::Invalid(d) => (**d).clone(),
            other => Diagnostic::error(other.to_string()),
        }
    }
}

/// serde's refusal of fixture `text` as a diagnostic: the key path said in words,
/// the keys that would do and the near miss, the caret at the place.
fn invalid(e: &serde_norway::Error, text: &str, path: &Path) -> Diagnostic {
    let full = e.to_string();
    let message = full.split(" at line ").next().unwrap_or(&full);
    let (within, what) = match message.split_once(": ") {
        Some((p, w)) if !p.contains(' ') => (Some(p), w),
        _ => (None, message),
    };
    let mut width = 1;
    let mut d = match what.strip_prefix("unknown field `") {
        Some(rest) => {
            let (given, valid) = rest.split_once('`').unwrap_or((rest, ""));
            let valid = taskotron_core::suggest::backquoted(valid);
            width = given.chars().count();
            let place = within.map_or("at the top".to_string(), |p| format!("in `{p}`"));
            let d = Diagnostic::error(format!("unknown key `{given}` {place}"))
                .expected(format!("one of {}", valid.join(", ")));
            match did_you_mean(given, valid.iter().copied()) {
                Some(s) => d.suggest(Some(s)),
                None => d.help("`taskotron test --schema fixture` prints every key"),
            }
        }
        None => Diagnostic::error(match within {
            Some(p) => format!("`{p}`: {what}"),
            None => what.to_string(),
        }),
    };
    d = match e.location() {
        Some(loc) => d.at(
            Some(path),
            text,
            Location {
                line: loc.line(),
                column: loc.column(),
            },
            width,
        ),
        None => d.in_file(path),
    };
    d
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ServicesFixture, FixtureError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.yaml");
        std::fs::write(&path, text).unwrap();
        ServicesFixture::load(&path)
    }

    /// The keys serde accepts at one level: what it lists after an unknown one.
    fn accepted(text: &str) -> Vec<String> {
        let d = load(text).unwrap_err().diagnostic();
        let expected = d.expected.unwrap_or_else(|| panic!("{}", d.message));
        let mut keys: Vec<String> = expected
            .trim_start_matches("one of ")
            .split(", ")
            .map(str::to_string)
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_schema_names_every_key_the_loader_reads_at_every_level() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        let updates = "/properties/bodhi/properties/updates/items";
        for (pointer, text) in [
            ("", "zzz: 1\n"),
            ("/properties/koji", "koji: {zzz: 1}\n"),
            ("/$defs/build", "koji: {builds: [{nvr: a-1-1, zzz: 1}]}\n"),
            (
                "/$defs/package",
                "koji: {builds: [{nvr: a-1-1, packages: [{zzz: 1}]}]}\n",
            ),
            ("/properties/bodhi", "bodhi: {zzz: 1}\n"),
            (
                "/properties/bodhi/properties/users/items",
                "bodhi: {users: [{name: a, token: b, zzz: 1}]}\n",
            ),
            (updates, "bodhi: {updates: [{alias: A, zzz: 1}]}\n"),
            (
                "/properties/bodhi/properties/updates/items/properties/comments/items",
                "bodhi: {updates: [{alias: A, comments: [{user: u, text: t, timestamp: x, zzz: 1}]}]}\n",
            ),
        ] {
            let object = schema.pointer(pointer).unwrap_or_else(|| panic!("{pointer}"));
            assert_eq!(object["additionalProperties"], false, "{pointer}");
            let mut named: Vec<String> = object["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            named.sort();
            assert_eq!(named, accepted(text), "{pointer}");
        }
        // The enums are the loader's too.
        let faults =
            &schema["$defs"]["build"]["properties"]["faults"]["additionalProperties"]["enum"];
        for f in faults.as_array().unwrap() {
            let text = format!(
                "koji: {{builds: [{{nvr: a-1-1, faults: {{a.rpm: {}}}}}]}}\n",
                f.as_str().unwrap()
            );
            assert!(load(&text).is_ok(), "{text}");
        }
        assert!(load("koji: {builds: [{nvr: a-1-1, faults: {a.rpm: slow}}]}\n").is_err());
    }

    #[test]
    fn an_unknown_key_says_where_what_would_do_and_the_near_miss() {
        let d = load("koji:\n  buils: []\n").unwrap_err().diagnostic();
        assert_eq!(d.message, "unknown key `buils` in `koji`");
        assert_eq!(d.location.map(|l| (l.line, l.column)), Some((2, 3)));
        assert_eq!(
            d.expected.as_deref(),
            Some("one of builds, tags, inheritance")
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `builds`?"));
        let d = load("kojj: {}\n").unwrap_err().diagnostic();
        assert_eq!(d.message, "unknown key `kojj` at the top");
        assert_eq!(d.help.as_deref(), Some("did you mean `koji`?"));
        let d = load("koji: {builds: [{nvr: a-1-1, arches: x86_64}]}\n")
            .unwrap_err()
            .diagnostic();
        assert!(d.location.is_some(), "{d}");
    }
}
