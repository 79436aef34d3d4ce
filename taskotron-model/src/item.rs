//! Item types (what a task checks: a Koji build, a Bodhi update, ...) and the shape
//! each type's item must have. Pure; no I/O.
//!
//! Items come from bus messages and command lines, so they are validated before
//! anything uses them; the shapes follow the original `ITEM_TYPE_DOCS`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use taskotron_tap::suggest::did_you_mean;

/// The three parts of a `name-version-release` (the name may hold dashes), or `None`
/// when one is missing or empty.
pub fn split_nvr(nvr: &str) -> Option<(&str, &str, &str)> {
    let mut parts = nvr.rsplitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(r), Some(v), Some(n)) if !n.is_empty() && !v.is_empty() && !r.is_empty() => {
            Some((n, v, r))
        }
        _ => None,
    }
}

/// The dist-git branch of a release: `1.fc39` -> `f39`, `3.el9` -> `epel9`.
pub fn distgit_branch(release: &str) -> Option<String> {
    let tag = release
        .rsplit('.')
        .find(|p| p.starts_with("fc") || p.starts_with("el"))?;
    if let Some(n) = tag
        .strip_prefix("fc")
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty())
    {
        return Some(format!("f{n}"));
    }
    tag.strip_prefix("el")
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map(|n| format!("epel{n}"))
}

/// The kind of thing a task checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// A Koji build, named by its N-V-R without epoch: `xchat-2.8.8-21.fc20`.
    KojiBuild,
    /// A Koji tag: `f39-updates-testing-pending`.
    KojiTag,
    /// A Bodhi update alias: `FEDORA-2024-1a2b3c4d5e`.
    BodhiUpdate,
    /// A compose, by URL or path.
    Compose,
    /// A container image reference.
    DockerImage,
    /// A dist-git commit: `rpms/xchat#<commit>`.
    DistGitCommit,
    /// A module build: `name-stream-version`.
    ModuleBuild,
    /// A git commit: `server/repo#branch#commit`.
    GitCommit,
    /// A pull request, by URL.
    PullRequest,
}

impl ItemType {
    /// Every item type, in the order the original listed them.
    pub const ALL: [ItemType; 9] = [
        ItemType::KojiBuild,
        ItemType::KojiTag,
        ItemType::BodhiUpdate,
        ItemType::Compose,
        ItemType::DockerImage,
        ItemType::DistGitCommit,
        ItemType::ModuleBuild,
        ItemType::GitCommit,
        ItemType::PullRequest,
    ];

    /// The name used on command lines, in formulas and in ResultsDB.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::KojiBuild => "koji_build",
            ItemType::KojiTag => "koji_tag",
            ItemType::BodhiUpdate => "bodhi_update",
            ItemType::Compose => "compose",
            ItemType::DockerImage => "docker_image",
            ItemType::DistGitCommit => "dist_git_commit",
            ItemType::ModuleBuild => "module_build",
            ItemType::GitCommit => "git_commit",
            ItemType::PullRequest => "pull_request",
        }
    }

    /// An example of a well-formed item, shown when one is malformed.
    pub fn example(self) -> &'static str {
        match self {
            ItemType::KojiBuild => "xchat-2.8.8-21.fc20",
            ItemType::KojiTag => "f39-updates-testing-pending",
            ItemType::BodhiUpdate => "FEDORA-2024-1a2b3c4d5e",
            ItemType::Compose => "https://kojipkgs.fedoraproject.org/compose/Fedora-39-20231106.0",
            ItemType::DockerImage => "registry.fedoraproject.org/fedora:39",
            ItemType::DistGitCommit => "rpms/xchat#0123abcd",
            ItemType::ModuleBuild => "nodejs-20-3920231106",
            ItemType::GitCommit => "github.com/org/repo#main#0123abcd",
            ItemType::PullRequest => "https://github.com/org/repo/pull/42",
        }
    }

    /// Checks that `item` has this type's shape.
    ///
    /// # Errors
    /// Says what is wrong and shows a well-formed example.
    pub fn validate(self, item: &str) -> Result<(), ItemError> {
        let fail = |reason: &str| {
            Err(ItemError {
                item: item.to_string(),
                item_type: self,
                reason: reason.to_string(),
            })
        };
        if item.is_empty() {
            return fail("it is empty");
        }
        if item.chars().any(|c| c.is_control()) {
            return fail("it contains a control character");
        }
        if item.chars().any(char::is_whitespace) {
            return fail("it contains white space");
        }
        match self {
            ItemType::KojiBuild => {
                if item.contains(':') {
                    return fail("an N-V-R has no epoch; drop the `N:` part");
                }
                let Some((n, v, r)) = split_nvr(item) else {
                    return fail("it is not a name-version-release");
                };
                if !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
                {
                    return fail("the name may hold only letters, digits and `._+-`");
                }
                let ver_ok = |s: &str| {
                    s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._+~^".contains(c))
                };
                if !ver_ok(v) || !ver_ok(r) {
                    return fail("version and release may hold only letters, digits and `._+~^`");
                }
                // Items of other types that split into three parts too: say which
                // type they look like rather than run a check for no build.
                if ItemType::BodhiUpdate.validate(item).is_ok() {
                    return fail("it is a Bodhi update alias; its type is bodhi_update");
                }
                let digits = |s: &str| s.chars().any(|c| c.is_ascii_digit());
                if !digits(v) && !digits(r) {
                    return fail(
                        "its version and release hold no digit, as a Koji tag's words do; \
                         is it a koji_tag?",
                    );
                }
            }
            ItemType::KojiTag => {
                let ok = item.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && item
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
                if !ok {
                    return fail("a tag name holds only letters, digits and `._+-`");
                }
            }
            ItemType::BodhiUpdate => {
                let parts: Vec<&str> = item.split('-').collect();
                let ok = parts.len() >= 3
                    && parts[0] == "FEDORA"
                    && parts[1..parts.len() - 2]
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase()))
                    && parts[parts.len() - 2].len() == 4
                    && parts[parts.len() - 2].chars().all(|c| c.is_ascii_digit())
                    && !parts[parts.len() - 1].is_empty()
                    && parts[parts.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
                if !ok {
                    if item.to_uppercase().starts_with("FEDORA-")
                        && item != item.to_uppercase()
                        && item.starts_with("fedora")
                    {
                        return fail("the alias starts with upper-case `FEDORA-`");
                    }
                    return fail("an update alias looks like FEDORA[-KIND]-YEAR-HEXID");
                }
            }
            ItemType::DistGitCommit => {
                let ok = item.split_once('#').is_some_and(|(repo, commit)| {
                    repo.split_once('/')
                        .is_some_and(|(ns, r)| !ns.is_empty() && !r.is_empty())
                        && is_commit(commit)
                });
                if !ok {
                    return fail("a dist-git commit looks like namespace/repo#commit");
                }
            }
            ItemType::GitCommit => {
                let parts: Vec<&str> = item.split('#').collect();
                let ok = parts.len() == 3
                    && !parts[0].is_empty()
                    && !parts[1].is_empty()
                    && is_commit(parts[2]);
                if !ok {
                    return fail("a git commit looks like server/repo#branch#commit");
                }
            }
            ItemType::ModuleBuild => {
                let mut parts = item.rsplitn(3, '-');
                let ok = matches!((parts.next(), parts.next(), parts.next()),
                    (Some(v), Some(s), Some(n)) if !n.is_empty() && !s.is_empty()
                        && !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return fail("a module build looks like name-stream-version");
                }
            }
            ItemType::PullRequest => {
                if !(item.starts_with("https://") || item.starts_with("http://")) {
                    return fail("a pull request is named by its URL");
                }
            }
            ItemType::Compose | ItemType::DockerImage => {}
        }
        Ok(())
    }
}

fn is_commit(s: &str) -> bool {
    (4..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an item type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown item type `{input}`")]
pub struct ItemTypeError {
    /// What was given.
    pub input: String,
    /// The type it most likely meant.
    pub suggestion: Option<&'static str>,
}

impl ItemTypeError {
    /// What would have been accepted.
    pub fn expected() -> String {
        taskotron_tap::suggest::one_of(ItemType::ALL.iter().map(|t| t.as_str()))
    }
}

impl FromStr for ItemType {
    type Err = ItemTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(t) = ItemType::ALL.into_iter().find(|t| t.as_str() == s) {
            return Ok(t);
        }
        // The 2014 docs called an update a `bodhi_id`.
        let suggestion = if s == "bodhi_id" {
            Some("bodhi_update")
        } else {
            did_you_mean(s, ItemType::ALL.iter().map(|t| t.as_str()))
        };
        let suggestion = suggestion.and_then(|n| {
            ItemType::ALL
                .iter()
                .find(|t| t.as_str() == n)
                .map(|t| t.as_str())
        });
        Err(ItemTypeError {
            input: s.to_string(),
            suggestion,
        })
    }
}

/// An item that does not fit its type's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{item}` is not a valid {item_type}: {reason}")]
pub struct ItemError {
    /// The item as given.
    pub item: String,
    /// The type it was given as.
    pub item_type: ItemType,
    /// What is wrong with it.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_items() {
        let good = [
            (ItemType::KojiBuild, "xchat-2.8.8-21.fc20"),
            (ItemType::KojiBuild, "perl-PAR-Packer-1.037-1.fc27"),
            (ItemType::KojiBuild, "python3.12-3.12.0~rc1-1.fc39"),
            (ItemType::KojiTag, "f25-updates-testing-pending"),
            (ItemType::BodhiUpdate, "FEDORA-2017-04459ef8cf"),
            (ItemType::BodhiUpdate, "FEDORA-2015-7485"),
            (ItemType::BodhiUpdate, "FEDORA-EPEL-2024-1a2b3c4d5e"),
            (ItemType::DistGitCommit, "rpms/xchat#0123abcd"),
            (ItemType::GitCommit, "github.com/org/repo#main#0123abcd"),
            (ItemType::ModuleBuild, "nodejs-20-3920231106"),
            (ItemType::PullRequest, "https://github.com/org/repo/pull/42"),
        ];
        for (t, item) in good {
            assert_eq!(t.validate(item), Ok(()), "{t} {item}");
            assert_eq!(t.validate(t.example()), Ok(()), "{t} example");
        }
    }

    #[test]
    fn rejects_misshapen_items() {
        let bad = [
            (ItemType::KojiBuild, "xchat"),
            (ItemType::KojiBuild, "xchat-2.8.8"),
            (ItemType::KojiBuild, "xchat-1:2.8.8-21.fc20"),
            (ItemType::KojiBuild, "x-1-1; touch /tmp/x"),
            (ItemType::KojiBuild, "x-1-$(id)"),
            (ItemType::KojiTag, "f39 updates"),
            (ItemType::BodhiUpdate, "fedora-2024-1a2b3c4d5e"),
            (ItemType::BodhiUpdate, "FEDORA-24-1a2b"),
            (ItemType::DistGitCommit, "xchat#abc"),
            (ItemType::GitCommit, "repo#main"),
            (ItemType::PullRequest, "42"),
            (ItemType::Compose, ""),
            (ItemType::Compose, "a\nb"),
        ];
        for (t, item) in bad {
            assert!(t.validate(item).is_err(), "{t} {item:?} should be rejected");
        }
    }

    /// Another type's item that splits into three parts is named as what it looks
    /// like, as the trigger tells them apart; real N-V-Rs stay valid.
    #[test]
    fn other_types_are_not_taken_for_builds() {
        for (item, looks) in [
            ("FEDORA-2024-abc", "bodhi_update"),
            ("FEDORA-EPEL-2024-1a2b3c4d5e", "bodhi_update"),
            ("f41-updates-pending", "koji_tag"),
        ] {
            let e = ItemType::KojiBuild.validate(item).unwrap_err().to_string();
            assert!(e.contains(looks), "{item}: {e}");
        }
        for nvr in [
            "htop-3.3.0-1.fc41",
            "python-rpm-macros-3.12-8.fc41",
            "git-2.47.0-rc1",
            "tzdata-2024a-9.fc41",
        ] {
            assert!(ItemType::KojiBuild.validate(nvr).is_ok(), "{nvr}");
        }
    }

    #[test]
    fn suggests_types() {
        assert_eq!(
            "koji-build".parse::<ItemType>().unwrap_err().suggestion,
            Some("koji_build")
        );
        assert_eq!(
            "bodhi_id".parse::<ItemType>().unwrap_err().suggestion,
            Some("bodhi_update")
        );
    }
}
