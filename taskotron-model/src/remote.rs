//! Where a remote run goes: `user@host[:port]`, as the original runner's `--ssh`
//! took it. The parser is pure; the connection lives in the core's `remote`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An SSH destination with its user, as `--ssh` and the config's `remote` give it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshTarget {
    /// The user to log in as (the original required one: `--ssh` "must contain @").
    pub user: String,
    /// A host name, an IPv4 address or an IPv6 address (without brackets).
    pub host: String,
    /// The port; `None` leaves it to the ssh config (22 unless it says otherwise).
    pub port: Option<u16>,
}

/// Why a text is not `user@host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an SSH destination: {why}; expected `user@host` or `user@host:port`, as `taskotron@minion.example.org:2222`")]
pub struct SshTargetError {
    /// The text.
    pub text: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl FromStr for SshTarget {
    type Err = SshTargetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why| SshTargetError {
            text: text.to_string(),
            why,
        };
        let (user, rest) = text
            .rsplit_once('@')
            .ok_or_else(|| bad("it names no user"))?;
        if user.is_empty() {
            return Err(bad("the user is empty"));
        }
        // What ssh would read as an option or split into words is refused here,
        // before it reaches a command line.
        let plain = |s: &str| {
            !s.starts_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        };
        if !plain(user) {
            return Err(bad("the user has a character a login name does not"));
        }
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            // [2001:db8::1]:2222
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("a `[` is not closed"))?;
            if host.is_empty() || !host.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                return Err(bad("the bracketed host is not an IPv6 address"));
            }
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| bad("text follows `]`"))?,
                    ),
                ),
            }
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        if !rest.starts_with('[') && !plain(host) {
            return Err(bad("the host has a character a host name does not"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port is not a number from 1 to 65535")),
                Ok(n) => Some(n),
            },
        };
        Ok(Self {
            user: user.to_string(),
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}@{host}", self.user)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl Serialize for SshTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SshTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_forms_the_original_took_and_ipv6() {
        let t: SshTarget = "taskotron@minion.example.org:2222".parse().unwrap();
        assert_eq!(
            (t.user.as_str(), t.host.as_str(), t.port),
            ("taskotron", "minion.example.org", Some(2222))
        );
        let t: SshTarget = "root@10.0.0.5".parse().unwrap();
        assert_eq!(t.port, None);
        let t: SshTarget = "me@[::1]:22".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        assert_eq!(t.to_string(), "me@[::1]:22");
    }

    #[test]
    fn bad_destinations_say_what_is_wrong() {
        for (text, why) in [
            ("minion.example.org", "names no user"),
            ("@host", "user is empty"),
            ("me@", "host is empty"),
            ("me@host:0", "port is not a number"),
            ("me@host:ssh", "port is not a number"),
            ("me@host:70000", "port is not a number"),
            ("-oProxyCommand=x@host", "login name"),
            ("me@-oProxyCommand=x", "host name"),
            ("me@host name", "host name"),
            ("me@[::1", "not closed"),
            ("me@[::1]x", "follows"),
        ] {
            let e = text.parse::<SshTarget>().unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
            assert!(e.contains("user@host:port"), "{e}");
        }
    }

    proptest! {
        #[test]
        fn display_parses_back(
            user in "[a-z_][a-z0-9_.-]{0,15}",
            host in prop_oneof!["[a-z0-9][a-z0-9.-]{0,30}", "[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}"],
            port in proptest::option::of(1u16..),
        ) {
            let t = SshTarget { user, host, port };
            prop_assert_eq!(t.to_string().parse::<SshTarget>(), Ok(t));
        }

        #[test]
        fn any_text_parses_or_says_why(text in "\\PC{0,40}") {
            if let Ok(t) = text.parse::<SshTarget>() {
                prop_assert_eq!(t.to_string().parse::<SshTarget>(), Ok(t));
            }
        }
    }
}
