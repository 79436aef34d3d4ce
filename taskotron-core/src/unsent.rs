//! What a reporter with no service configured would have sent (`resultsdb` without
//! `resultsdb_url`, `bodhi_comment` without `bodhi_url`): kept as a JSON file in the
//! run's artifacts and named in the log, so a task author sees exactly what
//! production would get. One place, so both reporters keep it the same way.

use std::io::Write;
use std::path::Path;

/// How one reporter words its disabled state.
pub(crate) struct Unsent<'a> {
    /// The file's name in the artifacts directory.
    pub file: &'a str,
    /// The prefix of an error (`resultsdb`, `bodhi_comment`).
    pub who: &'a str,
    /// What is disabled (`Reporting to ResultsDB`).
    pub activity: &'a str,
    /// The config key that would enable it.
    pub key: &'a str,
    /// What the items are and what would have happened to them (`results`, `sent`).
    pub items: (&'a str, &'a str),
}

/// The `resultsdb` directive's (and `taskotron report`'s) results.
pub(crate) const RESULTSDB: Unsent<'static> = Unsent {
    file: "resultsdb-payloads.json",
    who: "resultsdb",
    activity: "Reporting to ResultsDB",
    key: "resultsdb_url",
    items: ("results", "sent"),
};

/// The `bodhi_comment` directive's comments.
pub(crate) const BODHI: Unsent<'static> = Unsent {
    file: "bodhi-comments.json",
    who: "bodhi_comment",
    activity: "Commenting in Bodhi",
    key: "bodhi_url",
    items: ("comments", "posted"),
};

impl Unsent<'_> {
    /// Writes `items` to `<artifacts>/<file>` and says so on `out`.
    ///
    /// # Errors
    /// The file could not be written, with the reporter's prefix.
    pub(crate) fn keep<T: serde::Serialize>(
        &self,
        items: &[T],
        artifacts: &Path,
        out: &mut dyn Write,
    ) -> Result<(), String> {
        let path = artifacts.join(self.file);
        let text = serde_json::to_string_pretty(items)
            .map_err(|e| format!("{}: cannot serialise `{}`: {e}", self.who, self.file))?;
        std::fs::write(&path, text)
            .map_err(|e| format!("{}: cannot write `{}`: {e}", self.who, path.display()))?;
        let (noun, verb) = self.items;
        let _ = writeln!(
            out,
            "{} is disabled (no {}); these {} {noun} would have been {verb}: {}",
            self.activity,
            self.key,
            items.len(),
            path.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNSENT: Unsent<'static> = Unsent {
        file: "things.json",
        who: "thing",
        activity: "Sending things",
        key: "thing_url",
        items: ("things", "sent"),
    };

    #[test]
    fn the_items_are_kept_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        UNSENT
            .keep(
                &[serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
                dir.path(),
                &mut out,
            )
            .unwrap();
        let kept: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("things.json")).unwrap())
                .unwrap();
        assert_eq!(kept, serde_json::json!([{"a": 1}, {"b": 2}]));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "Sending things is disabled (no thing_url); these 2 things would have been sent: {}\n",
                dir.path().join("things.json").display()
            )
        );
    }

    #[test]
    fn an_unwritable_directory_is_an_error_with_the_reporters_name() {
        let dir = tempfile::tempdir().unwrap();
        let e = UNSENT
            .keep(&[1], &dir.path().join("missing"), &mut Vec::new())
            .unwrap_err();
        assert!(e.starts_with("thing: cannot write `"), "{e}");
    }
}
