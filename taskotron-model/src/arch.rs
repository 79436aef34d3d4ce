//! Machine architectures a task runs on, and the `all` selector. Pure; no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use taskotron_tap::suggest::did_you_mean;

/// One architecture, named as Fedora and Koji name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// 64-bit x86.
    #[serde(rename = "x86_64")]
    X86_64,
    /// 32-bit x86 (binary arches i486..i686).
    I386,
    /// 32-bit ARM hard float (binary arch armv7hl).
    Armhfp,
    /// 64-bit ARM.
    Aarch64,
    /// 64-bit little-endian POWER.
    Ppc64le,
    /// IBM Z.
    S390x,
    /// Architecture-independent: the task does not care where it runs.
    Noarch,
}

impl Arch {
    /// Every arch, in a stable order.
    pub const ALL: [Arch; 7] = [
        Arch::X86_64,
        Arch::I386,
        Arch::Armhfp,
        Arch::Aarch64,
        Arch::Ppc64le,
        Arch::S390x,
        Arch::Noarch,
    ];

    /// The name as written in formulas, messages and Koji.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Armhfp => "armhfp",
            Arch::Aarch64 => "aarch64",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
            Arch::Noarch => "noarch",
        }
    }

    /// The arches Koji names this arch's binary RPMs with (`i386` builds `i686`
    /// RPMs, `armhfp` builds `armv7hl` ones).
    pub fn binary_arches(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["x86_64"],
            Arch::I386 => &["i386", "i486", "i586", "i686"],
            Arch::Armhfp => &["armhfp", "armv7hl"],
            Arch::Aarch64 => &["aarch64"],
            Arch::Ppc64le => &["ppc64le"],
            Arch::S390x => &["s390x"],
            Arch::Noarch => &["noarch"],
        }
    }

    /// The arches `all` stands for: every real machine arch, not `noarch`.
    pub fn machine_arches() -> impl Iterator<Item = Arch> {
        Self::ALL.into_iter().filter(|a| *a != Arch::Noarch)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an arch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown arch `{input}`")]
pub struct ArchError {
    /// What was given.
    pub input: String,
    /// The arch it most likely meant.
    pub suggestion: Option<&'static str>,
}

impl ArchError {
    /// What would have been accepted, for "expected ..." texts.
    pub fn expected() -> String {
        taskotron_tap::suggest::one_of(Arch::ALL.iter().map(|a| a.as_str()))
    }
}

/// Common other names for the same machines (RPM binary arches, Debian names).
fn alias(input: &str) -> Option<&'static str> {
    Some(match input {
        "amd64" | "x86-64" | "x64" => "x86_64",
        "i486" | "i586" | "i686" | "x86" => "i386",
        "armv7hl" | "armhf" | "arm" => "armhfp",
        "arm64" => "aarch64",
        "ppc64el" => "ppc64le",
        "s390" => "s390x",
        "all" => return None,
        _ => return None,
    })
}

impl FromStr for Arch {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(a) = Arch::ALL.into_iter().find(|a| a.as_str() == s) {
            return Ok(a);
        }
        let suggestion = alias(&s.to_lowercase())
            .or_else(|| did_you_mean(s, Arch::ALL.iter().map(|a| a.as_str())))
            .and_then(|n| {
                Arch::ALL
                    .iter()
                    .find(|a| a.as_str() == n)
                    .map(|a| a.as_str())
            });
        Err(ArchError {
            input: s.to_string(),
            suggestion,
        })
    }
}

/// An arch as rules and directives accept it: one arch, or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ArchSelector {
    /// Every supported machine arch.
    All,
    /// Exactly this arch.
    One(Arch),
}

impl ArchSelector {
    /// The arches selected, given the arches a deployment supports for `all`.
    pub fn expand(self, supported: &[Arch]) -> Vec<Arch> {
        match self {
            ArchSelector::All => supported.to_vec(),
            ArchSelector::One(a) => vec![a],
        }
    }
}

impl FromStr for ArchSelector {
    type Err = ArchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            Ok(ArchSelector::All)
        } else {
            s.parse().map(ArchSelector::One)
        }
    }
}

impl TryFrom<String> for ArchSelector {
    type Error = ArchError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ArchSelector> for String {
    fn from(a: ArchSelector) -> String {
        match a {
            ArchSelector::All => "all".into(),
            ArchSelector::One(a) => a.as_str().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_suggests_aliases() {
        for a in Arch::ALL {
            assert_eq!(a.as_str().parse::<Arch>().unwrap(), a);
        }
        assert_eq!(
            "amd64".parse::<Arch>().unwrap_err().suggestion,
            Some("x86_64")
        );
        assert_eq!("i686".parse::<Arch>().unwrap_err().suggestion, Some("i386"));
        assert_eq!(
            "x86_46".parse::<Arch>().unwrap_err().suggestion,
            Some("x86_64")
        );
        assert_eq!("sparc".parse::<Arch>().unwrap_err().suggestion, None);
    }

    #[test]
    fn all_expands_to_the_supported_arches() {
        let sel: ArchSelector = "all".parse().unwrap();
        assert_eq!(
            sel.expand(&[Arch::X86_64, Arch::Aarch64]),
            vec![Arch::X86_64, Arch::Aarch64]
        );
        assert_eq!(Arch::machine_arches().count(), 6);
        assert_eq!(serde_json::to_string(&sel).unwrap(), "\"all\"");
    }
}
