//! `~` and `$HOME` in the configuration's paths. People copy `~/.local/...` from
//! documentation and shells; taken literally it makes a directory named `~` in the
//! current directory (one `rm -rf ~` away from a disaster). Every path key expands
//! `~`, `~/...`, `$HOME/...` and `${HOME}/...` from `HOME`; what cannot be expanded
//! (`~user`, or `~` with no `HOME`) is refused with the key's name.
//! *Invariant: no I/O; `HOME` comes from the caller.*

use std::path::{Path, PathBuf};

/// Why a path could not be expanded: the key and what is wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: `{value}` {why}")]
pub struct HomeError {
    /// The key, with an index for a list's entry (`task_path[1]`).
    pub key: String,
    /// The value as written.
    pub value: String,
    /// What is wrong and the way out.
    pub why: String,
}

/// `path` with a leading `~` or `$HOME` replaced by `home`; unchanged otherwise.
///
/// # Errors
/// `~user`, or a `~`/`$HOME` path while `home` is unknown.
pub fn expand(key: &str, path: &Path, home: Option<&str>) -> Result<PathBuf, HomeError> {
    let Some(text) = path.to_str() else {
        return Ok(path.to_path_buf());
    };
    let rest = if text == "~" || text == "$HOME" || text == "${HOME}" {
        Some("")
    } else {
        ["~/", "$HOME/", "${HOME}/"]
            .iter()
            .find_map(|p| text.strip_prefix(p))
    };
    let fail = |why: String| HomeError {
        key: key.to_string(),
        value: text.to_string(),
        why,
    };
    match rest {
        Some(rest) => match home.filter(|h| !h.is_empty()) {
            Some(h) => Ok(if rest.is_empty() {
                PathBuf::from(h)
            } else {
                Path::new(h).join(rest)
            }),
            None => Err(fail(
                "starts with the home directory, but HOME is not set; write the path in full"
                    .into(),
            )),
        },
        None if text.starts_with('~') => Err(fail(
            "names another user's home directory, which is not expanded; write the path in full"
                .into(),
        )),
        None => Ok(path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_directory_is_expanded_and_nothing_else() {
        let home = Some("/home/qa");
        for (given, want) in [
            ("~", "/home/qa"),
            (
                "~/.local/share/taskotron",
                "/home/qa/.local/share/taskotron",
            ),
            ("$HOME/x", "/home/qa/x"),
            ("${HOME}/x", "/home/qa/x"),
            ("/srv/x~", "/srv/x~"),
            ("rel/~/x", "rel/~/x"),
            ("$HOMEX/y", "$HOMEX/y"),
        ] {
            assert_eq!(
                expand("artifacts", Path::new(given), home).unwrap(),
                PathBuf::from(want),
                "{given}"
            );
        }
    }

    #[test]
    fn what_cannot_be_expanded_names_its_key() {
        let e = expand("state_dir", Path::new("~/s"), None).unwrap_err();
        assert_eq!(e.key, "state_dir");
        assert!(e.to_string().contains("HOME is not set"), "{e}");
        let e = expand("task_path[0]", Path::new("~bob/tasks"), Some("/h")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("task_path[0]: `~bob/tasks` names another user's home"),
            "{e}"
        );
    }
}
