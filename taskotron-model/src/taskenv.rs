//! The environment of a task's processes, built from an allow-list.
//!
//! A worker's environment holds what a task must never see: `TASKOTRON_RESULTSDB_TOKEN`,
//! `TASKOTRON_BODHI_TOKEN`, a cloud key in a deploy script's shell. A task process
//! therefore inherits nothing; it gets the run's documented `TASKOTRON_*` variables,
//! `HOME` and `TMPDIR` inside the run, and from the caller's environment only
//! [`PASSED`], `LC_*` and what the configuration's `task_env` names. A `task_env`
//! entry can never name a `TASKOTRON_*` variable, so no credential can be passed by
//! mistake. *Invariant: no I/O; the caller's environment is given as pairs.*

use std::ffi::OsString;

/// Variables passed from the caller's environment to every task.
pub const PASSED: &[&str] = &["PATH", "LANG", "LANGUAGE", "TZ"];

/// Prefixes of variables passed likewise (the locale categories).
pub const PASSED_PREFIXES: &[&str] = &["LC_"];

/// The `TASKOTRON_*` variables every process of a run gets from the runner.
pub const RUN_VARIABLES: &[&str] = &[
    "TASKOTRON_ITEM",
    "TASKOTRON_ITEM_TYPE",
    "TASKOTRON_ARCH",
    "TASKOTRON_BUILD_ID",
    "TASKOTRON_RUN_ID",
    "TASKOTRON_WORKDIR",
    "TASKOTRON_ARTIFACTSDIR",
    "TASKOTRON_CHECKNAME",
    "TASKOTRON_TASKDIR",
    "TASKOTRON_NAMESPACE",
    "TASKOTRON_KOJI_URL",
    "TASKOTRON_KOJI_PKGS_URL",
    "TASKOTRON_BODHI_URL",
];

/// Whether `name` is in the environment of a run's processes (the allow-list,
/// `HOME`, `TMPDIR`, the run's `TASKOTRON_*`): a `$NAME` in a shell line that
/// means it must be written `$$NAME`, or taskotron substitutes it first.
pub fn of_run(name: &str) -> bool {
    PASSED.contains(&name)
        || PASSED_PREFIXES.iter().any(|p| name.starts_with(p))
        || matches!(name, "HOME" | "TMPDIR")
        || RUN_VARIABLES.contains(&name)
}

/// `PATH` when the caller has none.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// One entry of `task_env`: a variable's name, or a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// Checks an entry: letters, digits and `_`, not starting with a digit, with an
    /// optional `*` at the end; never a `TASKOTRON_` variable (those are the run's
    /// own, and some are credentials).
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Err("`*` would pass the whole environment, credentials included; name the variables a task needs".into());
        }
        let name = text.strip_suffix('*').unwrap_or(text);
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{text}` is not an environment variable's name (letters, digits and `_`, or a prefix ending in `*`)"
            ));
        }
        if "TASKOTRON_".starts_with(name) || name.starts_with("TASKOTRON_") {
            return Err(format!(
                "`{text}` names TASKOTRON_ variables, which are the run's own (and may be credentials); a task gets its TASKOTRON_* run variables anyway"
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The entry as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn matches(&self, var: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => var.starts_with(prefix),
            None => var == self.0,
        }
    }
}

impl serde::Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor, so that the error is raised at the entry and carries its place.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Pattern;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an environment variable's name, or a prefix ending in `*`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Pattern, E> {
                Pattern::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The variables of `caller` a task may see: [`PASSED`], `LC_*` and `extra`, never a
/// `TASKOTRON_*` one; variables that are not UTF-8 are left out. `PATH` is
/// [`DEFAULT_PATH`] when the caller has none.
pub fn inherited(
    caller: impl IntoIterator<Item = (OsString, OsString)>,
    extra: &[Pattern],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = caller
        .into_iter()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| !k.starts_with("TASKOTRON_"))
        .filter(|(k, _)| {
            PASSED.contains(&k.as_str())
                || PASSED_PREFIXES.iter().any(|p| k.starts_with(p))
                || extra.iter().any(|p| p.matches(k))
        })
        .collect();
    if !out.iter().any(|(k, _)| k == "PATH") {
        out.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn only_the_allow_list_passes() {
        let env = caller(&[
            ("PATH", "/bin"),
            ("LANG", "C.UTF-8"),
            ("LC_TIME", "en_GB"),
            ("TZ", "UTC"),
            ("HOME", "/root"),
            ("TASKOTRON_RESULTSDB_TOKEN", "s3cret"),
            ("TASKOTRON_BODHI_TOKEN", "s3cret"),
            ("AWS_SECRET_ACCESS_KEY", "s3cret"),
            ("SSL_CERT_FILE", "/etc/ssl/ca.pem"),
            ("PIP_INDEX_URL", "http://mirror"),
        ]);
        let got = inherited(env.clone(), &[]);
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["LANG", "LC_TIME", "PATH", "TZ"]);
        let extra = [
            Pattern::parse("SSL_CERT_FILE").unwrap(),
            Pattern::parse("PIP_*").unwrap(),
        ];
        let got = inherited(env, &extra);
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "LANG",
                "LC_TIME",
                "PATH",
                "PIP_INDEX_URL",
                "SSL_CERT_FILE",
                "TZ"
            ]
        );
        assert!(!got.iter().any(|(_, v)| v == "s3cret"));
    }

    #[test]
    fn a_path_always_exists() {
        let got = inherited(caller(&[("HOME", "/root")]), &[]);
        assert_eq!(got, [("PATH".to_string(), DEFAULT_PATH.to_string())]);
    }

    #[test]
    fn patterns_never_reach_credentials() {
        for bad in [
            "TASKOTRON_RESULTSDB_TOKEN",
            "TASKOTRON_*",
            "TASK*",
            "T*",
            "*",
            "",
            "1ABC",
            "A-B",
            "A*B",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        assert!(Pattern::parse("PYTHONPATH").is_ok());
        assert!(Pattern::parse("X*").is_ok());
    }
}
