//! The root of the runs' scratch directories (`tmpdir`): made private (0700) when
//! the runner creates it, and refused when another user owns it. Another user's
//! directory there could hold links or files planted for this user's runs, and
//! the default used to be one shared `/tmp/taskotron` that the first user to run
//! took for everyone.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

/// Makes `dir` (mode 0700, parents as needed) or checks that the existing one is
/// this user's.
///
/// # Errors
/// It cannot be made, or it belongs to another user; the text says what to do.
pub fn ensure(dir: &Path) -> Result<(), String> {
    let uid = crate::config::current_uid();
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(format!(
            "the scratch directory `{}` is a symbolic link; set `tmpdir` to a directory of \
             this user's",
            dir.display()
        )),
        Ok(meta) if meta.uid() != uid => Err(format!(
            "the scratch directory `{}` belongs to user {}, not to this user ({uid}); set \
             `tmpdir` (or $TASKOTRON_TMPDIR) to a directory of this user's",
            dir.display(),
            meta.uid()
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                format!(
                    "cannot create the scratch directory `{}`: {e}",
                    dir.display()
                )
            }),
        Err(e) => Err(format!(
            "cannot look at the scratch directory `{}`: {e}",
            dir.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_new_root_is_private_and_an_existing_one_of_ours_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/taskotron-1");
        ensure(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        ensure(&dir).unwrap();
        std::os::unix::fs::symlink(&dir, t.path().join("link")).unwrap();
        assert!(ensure(&t.path().join("link"))
            .unwrap_err()
            .contains("symbolic link"));
    }

    #[test]
    fn another_users_root_is_refused() {
        // `/` is root's: only a test run as root owns it.
        if crate::config::current_uid() == 0 {
            return;
        }
        let e = ensure(Path::new("/")).unwrap_err();
        assert!(e.contains("belongs to user 0"), "{e}");
    }
}
