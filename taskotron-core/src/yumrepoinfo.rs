//! `yumrepoinfo.conf`: Fedora's repositories (a Koji tag, its parent, its URL per
//! arch) in Python ConfigParser syntax, as production Taskotron kept them.
//!
//! Written here rather than with an INI crate because the format needs what the
//! maintained INI crates do not do together: a `[DEFAULT]` section whose keys
//! every section inherits, `%(key)s` interpolation resolved in the section, then
//! DEFAULT, then the run's `arch`, key names folded to lower case, and indented
//! continuation lines. Parsing is pure; [`YumRepoInfo::load`] reads the file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Location};

/// The parsed file: DEFAULT and the repository sections, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YumRepoInfo {
    defaults: BTreeMap<String, String>,
    sections: Vec<(String, BTreeMap<String, String>)>,
}

/// One repository for one arch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Repo {
    /// The section name (`f28-updates`).
    pub name: String,
    /// Its Koji tag.
    pub tag: String,
    /// The repository it builds on, or none.
    pub parent: Option<String>,
    /// Its URL for the arch asked for.
    pub url: String,
}

/// What the file says of an arch: Koji arch names map to base arches.
pub fn basearch(arch: &str) -> &str {
    match arch {
        "i486" | "i586" | "i686" | "athlon" => "i386",
        "armv7hl" | "armv7l" | "armhfp" => "armhfp",
        "ppc64p7" => "ppc64",
        other => other,
    }
}

impl YumRepoInfo {
    /// Reads and parses a file.
    ///
    /// # Errors
    /// The file cannot be read, or a line is neither a section, a `key = value`,
    /// a continuation, a comment nor blank.
    pub fn load(path: &Path) -> Result<Self, Box<Diagnostic>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Diagnostic::error(format!("cannot read `{}`: {e}", path.display())))?;
        Self::parse_in(&text, Some(path))
    }

    /// Parses ConfigParser text.
    ///
    /// # Errors
    /// The first line that is not valid, with its position.
    pub fn parse(text: &str) -> Result<Self, Box<Diagnostic>> {
        Self::parse_in(text, None)
    }

    fn parse_in(text: &str, file: Option<&Path>) -> Result<Self, Box<Diagnostic>> {
        let mut info = Self::default();
        // None: DEFAULT; Some(i): sections[i].
        let mut current: Option<Option<usize>> = None;
        let mut last_key: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            let at = |column: usize, width: usize, message: String, expected: &str| {
                Box::new(Diagnostic::error(message).expected(expected).at(
                    file,
                    text,
                    Location {
                        line: n + 1,
                        column: column + 1,
                    },
                    width,
                ))
            };
            if line.starts_with([' ', '\t']) {
                // A continuation of the previous value.
                let Some(key) = &last_key else {
                    return Err(at(
                        0,
                        line.len(),
                        "an indented line with no value to continue".into(),
                        "`key = value` at the start of a line",
                    ));
                };
                let map = info.map_mut(current.flatten());
                if let Some(v) = map.get_mut(key) {
                    v.push('\n');
                    v.push_str(trimmed);
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(at(
                        0,
                        line.len(),
                        "a section header without `]`".into(),
                        "`[name]`",
                    ));
                };
                let name = name.trim().to_string();
                current = Some(if name == "DEFAULT" {
                    None
                } else if let Some(i) = info.sections.iter().position(|(s, _)| *s == name) {
                    Some(i)
                } else {
                    info.sections.push((name, BTreeMap::new()));
                    Some(info.sections.len() - 1)
                });
                last_key = None;
                continue;
            }
            let Some(split) = line.find(['=', ':']) else {
                return Err(at(
                    0,
                    line.len(),
                    format!("`{trimmed}` is not `key = value`"),
                    "`key = value`, `[section]` or a `#` comment",
                ));
            };
            let Some(section) = current else {
                return Err(at(
                    0,
                    line.len(),
                    "a value before any section".into(),
                    "a `[section]` header first",
                ));
            };
            let key = line[..split].trim().to_lowercase();
            let value = line[split + 1..].trim().to_string();
            info.map_mut(section).insert(key.clone(), value);
            last_key = Some(key);
        }
        Ok(info)
    }

    fn map_mut(&mut self, section: Option<usize>) -> &mut BTreeMap<String, String> {
        match section {
            None => &mut self.defaults,
            Some(i) => &mut self.sections[i].1,
        }
    }

    /// The repository names, in file order.
    pub fn repos(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(s, _)| s.as_str())
    }

    /// `key` of repository `repo` for `arch`, interpolated.
    ///
    /// # Errors
    /// No such repository or key, a reference to an unknown key, or a reference loop.
    pub fn get(&self, repo: &str, key: &str, arch: &str) -> Result<String, String> {
        let section = self
            .sections
            .iter()
            .find(|(s, _)| s == repo)
            .map(|(_, m)| m)
            .ok_or_else(|| format!("no repository `[{repo}]`"))?;
        let arch = basearch(arch);
        let alternate = self
            .raw(section, "alternate_arches")
            .is_some_and(|a| a.split(',').any(|x| x.trim() == arch));
        let lookup = |k: &str| -> Option<String> {
            if k == "arch" {
                return Some(arch.to_string());
            }
            // An alternate arch reads its base URL from `baseurl_altarch`.
            if k == "baseurl" && alternate {
                if let Some(v) = self.raw(section, "baseurl_altarch") {
                    return Some(v.to_string());
                }
            }
            self.raw(section, k).map(str::to_string)
        };
        let value = lookup(key).ok_or_else(|| format!("repository `[{repo}]` has no `{key}`"))?;
        interpolate(&value, &lookup, 0).map_err(|e| format!("`[{repo}]` `{key}`: {e}"))
    }

    fn raw<'a>(&'a self, section: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
        section
            .get(key)
            .or_else(|| self.defaults.get(key))
            .map(String::as_str)
    }

    /// The repository of Koji tag `tag` (a `-candidate` tag is its base tag's).
    pub fn repo_by_tag(&self, tag: &str, arch: &str) -> Option<Repo> {
        let tag = tag.strip_suffix("-candidate").unwrap_or(tag);
        let name = self
            .repos()
            .find(|r| self.get(r, "tag", arch).is_ok_and(|t| t == tag))?;
        self.repo(name, arch).ok()
    }

    /// Repository `name` for `arch`.
    ///
    /// # Errors
    /// As [`YumRepoInfo::get`].
    pub fn repo(&self, name: &str, arch: &str) -> Result<Repo, String> {
        let parent = self.get(name, "parent", arch).unwrap_or_default();
        Ok(Repo {
            name: name.to_string(),
            tag: self.get(name, "tag", arch)?,
            parent: (!parent.is_empty()).then_some(parent),
            url: self.get(name, "url", arch)?,
        })
    }

    /// The repository of `koji_tag` and each of its parents, for `arch`, the tag
    /// first. `-pending` is stripped (pending tags are not repositories);
    /// `rawhide` means the tag of the `[rawhide]` repository.
    ///
    /// # Errors
    /// An unknown tag or parent, or a parent loop.
    pub fn chain(&self, koji_tag: &str, arch: &str) -> Result<Vec<Repo>, String> {
        let mut tag = koji_tag
            .strip_suffix("-pending")
            .unwrap_or(koji_tag)
            .to_string();
        if tag == "rawhide" {
            tag = self.get("rawhide", "tag", arch)?;
        }
        let first = self.repo_by_tag(&tag, arch).ok_or_else(|| {
            let known: Vec<String> = self
                .repos()
                .filter_map(|r| self.get(r, "tag", arch).ok())
                .collect();
            let hint = crate::suggest::did_you_mean(&tag, known.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            format!("no repository has the Koji tag `{tag}`{hint}")
        })?;
        let mut chain = vec![first];
        while let Some(parent) = chain.last().and_then(|r| r.parent.clone()) {
            if chain.iter().any(|r| r.name == parent) {
                return Err(format!(
                    "a parent loop: {} → {parent}",
                    chain
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ")
                ));
            }
            chain.push(self.repo(&parent, arch)?);
        }
        Ok(chain)
    }
}

/// Resolves `%(key)s` (and `%%`) in `value`.
fn interpolate(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, String> {
    if depth > 10 {
        return Err("references nest more than 10 deep (a loop?)".into());
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            let close = inner
                .find(")s")
                .ok_or_else(|| format!("`%(` without `)s` in `{value}`"))?;
            let key = inner[..close].to_lowercase();
            let v = lookup(&key).ok_or_else(|| format!("`%({key})s` names no key"))?;
            out.push_str(&interpolate(&v, lookup, depth + 1)?);
            rest = &inner[close + 2..];
        } else {
            return Err(format!("a lone `%` in `{value}` (write `%%`)"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> YumRepoInfo {
        // Production Taskotron's last file, as it was (../shared/samples/results/).
        YumRepoInfo::parse(include_str!("yumrepoinfo/testdata/yumrepoinfo.conf")).unwrap()
    }

    #[test]
    fn the_production_file_gives_each_tag_and_its_parents() {
        let info = sample();
        let chain = info.chain("f28-updates-testing-pending", "x86_64").unwrap();
        let got: Vec<(&str, &str)> = chain
            .iter()
            .map(|r| (r.name.as_str(), r.url.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("f28-updates-testing", "http://download.fedoraproject.org/pub/fedora/linux/updates/testing/28/Everything/x86_64"),
                ("f28-updates", "http://download.fedoraproject.org/pub/fedora/linux/updates/28/Everything/x86_64"),
                ("f28", "http://download.fedoraproject.org/pub/fedora/linux/releases/28/Everything/x86_64/os"),
            ]
        );
        // A section's own `updatesurl` wins over DEFAULT's; alternate arches read
        // `baseurl_altarch`; Koji's i686 is i386.
        let f27 = info.chain("f27-updates", "i686").unwrap();
        assert_eq!(
            f27[0].url,
            "http://download.fedoraproject.org/pub/fedora-secondary/updates/27/i386"
        );
        let raw = info.chain("rawhide", "aarch64").unwrap();
        assert_eq!(
            (raw[0].name.as_str(), raw[0].tag.as_str()),
            ("rawhide", "f29")
        );
        assert!(raw[0]
            .url
            .ends_with("fedora-secondary/development/rawhide/Everything/aarch64/os"));
        assert_eq!(
            info.chain("f28-candidate", "x86_64").unwrap()[0].name,
            "f28"
        );
        let e = info.chain("f82-updates", "x86_64").unwrap_err();
        assert!(
            e.contains("no repository has the Koji tag `f82-updates`; did you mean `f28-updates`?"),
            "{e}"
        );
    }

    #[test]
    fn bad_lines_and_references_are_named() {
        let e = YumRepoInfo::parse("[f1]\ntag = f1\nthis is wrong\n").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(3));
        let info = YumRepoInfo::parse(
            "[a]\ntag = a\nparent = b\nurl = %(nope)s\n[b]\ntag = b\nparent = a\nurl = x\n",
        )
        .unwrap();
        assert!(info
            .get("a", "url", "x86_64")
            .unwrap_err()
            .contains("`%(nope)s` names no key"));
        let info = YumRepoInfo::parse(
            "[a]\ntag = a\nparent = b\nurl = u\n[b]\ntag = b\nparent = a\nurl = x\n",
        )
        .unwrap();
        assert!(info
            .chain("a", "x86_64")
            .unwrap_err()
            .contains("a parent loop"));
    }
}
