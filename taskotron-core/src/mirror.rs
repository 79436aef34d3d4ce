//! The mirror cache of task repositories. A task is a local directory or a git
//! repository (`task::TaskLocation`: `git://host/rpmlint.git#main`,
//! `file:///srv/git/rpmlint.git`, a path
//! ending in `.git`). Each repository has one bare mirror under the state directory
//! (all refs), cloned once and fetched at most once per interval (or on demand); jobs
//! check out the commit their ref names from the mirror into their own directory. The
//! upstream server sees one clone and then periodic fetches, never one per job.
//! Workers share a mirror through a lock file, so two never clone or fetch it at once.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Why a repository could not be mirrored or checked out.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// libgit2 failed (unreachable upstream, unknown ref, corrupt mirror, ...).
    #[error("{what} `{url}`: {source}")]
    Git {
        /// What was being done.
        what: &'static str,
        /// The repository.
        url: String,
        /// What libgit2 said.
        source: git2::Error,
    },
    /// The ref names nothing in the repository (the task's configuration is wrong).
    #[error("unknown ref `{git_ref}` in `{url}`: {source}")]
    UnknownRef {
        /// The repository.
        url: String,
        /// The ref.
        git_ref: String,
        /// What libgit2 said.
        source: git2::Error,
    },
    /// A file of the mirror or the checkout could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// What [`Mirror::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The mirror was made (a clone from upstream).
    Cloned,
    /// It was fetched from upstream.
    Fetched,
    /// It was fresh enough; upstream was not contacted.
    Fresh,
}

/// The mirror cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    root: PathBuf,
    interval: Duration,
}

/// The stamp file whose mtime says when a mirror was last fetched.
const STAMP: &str = "taskotron-fetched";

impl Mirror {
    /// A cache under `root`, fetching each repository at most once per `interval`.
    pub fn new(root: &Path, interval: Duration) -> Self {
        Self {
            root: root.to_path_buf(),
            interval,
        }
    }

    /// The readable part of a mirror's name: the repository's last path component
    /// without `.git`, in file-name characters (`rpms/htop.git` → `htop`).
    pub fn name_of(&self, url: &str) -> String {
        url.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("repo")
            .trim_end_matches(".git")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The bare mirror of `url`: a readable name plus a hash of the whole URL.
    pub fn path_of(&self, url: &str) -> PathBuf {
        let name = self.name_of(url);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut h);
        self.root.join(format!("{name}-{:016x}.git", h.finish()))
    }

    /// Locks the mirror of `bare`: exclusively to clone or fetch it, shared to read it.
    fn lock(&self, bare: &Path, exclusive: bool) -> Result<File, MirrorError> {
        let io = |source| MirrorError::Io {
            path: self.root.clone(),
            source,
        };
        std::fs::create_dir_all(&self.root).map_err(io)?;
        crate::lock::take(&bare.with_extension("lock"), exclusive).map_err(io)
    }

    /// Makes the mirror of `url` exist and be no older than the interval (or fetches
    /// it anyway with `force`).
    ///
    /// # Errors
    /// Upstream could not be cloned or fetched; an existing mirror is left as it was.
    pub fn update(&self, url: &str, force: bool) -> Result<Refresh, MirrorError> {
        let bare = self.path_of(url);
        let _lock = self.lock(&bare, true)?;
        let git = |what: &'static str| {
            move |source| MirrorError::Git {
                what,
                url: url.to_string(),
                source,
            }
        };
        let stamp = bare.join(STAMP);
        let touch = || {
            File::create(&stamp)
                .map(|_| ())
                .map_err(|source| MirrorError::Io {
                    path: stamp.clone(),
                    source,
                })
        };
        if !bare.join("HEAD").exists() {
            // Clone into a temporary name and rename, so a clone cut short never
            // looks like a mirror.
            let partial = bare.with_extension("partial");
            let _ = std::fs::remove_dir_all(&partial);
            let repo =
                git2::Repository::init_bare(&partial).map_err(git("cannot create a mirror of"))?;
            let mut remote = repo
                .remote_with_fetch("origin", url, "+refs/*:refs/*")
                .map_err(git("cannot add the remote"))?;
            remote
                .fetch(&["+refs/*:refs/*"], None, None)
                .map_err(git("cannot clone"))?;
            set_head_from_remote(&repo, &mut remote);
            drop(remote);
            drop(repo);
            std::fs::rename(&partial, &bare).map_err(|source| MirrorError::Io {
                path: bare.clone(),
                source,
            })?;
            touch()?;
            return Ok(Refresh::Cloned);
        }
        let age = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if !force && age.is_some_and(|a| a < self.interval) {
            return Ok(Refresh::Fresh);
        }
        let repo = git2::Repository::open_bare(&bare).map_err(git("cannot open the mirror of"))?;
        let mut remote = repo
            .find_remote("origin")
            .map_err(git("no remote in the mirror of"))?;
        let mut opts = git2::FetchOptions::new();
        opts.prune(git2::FetchPrune::On);
        remote
            .fetch(&["+refs/*:refs/*"], Some(&mut opts), None)
            .map_err(git("cannot fetch"))?;
        touch()?;
        Ok(Refresh::Fetched)
    }

    /// Writes the tree of `git_ref` (the mirror's HEAD when `None`) into `dest`, which
    /// must not exist; returns the commit id.
    ///
    /// # Errors
    /// No mirror, an unknown ref, or `dest` cannot be written.
    pub fn checkout(
        &self,
        url: &str,
        git_ref: Option<&str>,
        dest: &Path,
    ) -> Result<String, MirrorError> {
        let bare = self.path_of(url);
        let git = |what: &'static str| {
            move |source| MirrorError::Git {
                what,
                url: url.to_string(),
                source,
            }
        };
        // Shared: checkouts run side by side, never while the mirror is fetched.
        let _lock = self.lock(&bare, false)?;
        let repo = git2::Repository::open_bare(&bare).map_err(git("no mirror of"))?;
        let commit = commit_of(&repo, url, git_ref)?;
        std::fs::create_dir_all(dest).map_err(|source| MirrorError::Io {
            path: dest.to_path_buf(),
            source,
        })?;
        let mut co = git2::build::CheckoutBuilder::new();
        // The mirror's index is left alone, so that checkouts can run at once.
        co.target_dir(dest)
            .force()
            .recreate_missing(true)
            .update_index(false);
        repo.checkout_tree(commit.as_object(), Some(&mut co))
            .map_err(git("cannot check out"))?;
        Ok(commit.id().to_string())
    }
}

impl Mirror {
    /// The text of `path` in the tree of `git_ref` (HEAD when `None`), read from
    /// the mirror without a checkout; `None` when the tree has no such file.
    ///
    /// # Errors
    /// No mirror, an unknown ref, or the file is not UTF-8.
    pub fn read_file(
        &self,
        url: &str,
        git_ref: Option<&str>,
        path: &str,
    ) -> Result<Option<String>, MirrorError> {
        let bare = self.path_of(url);
        let _lock = self.lock(&bare, false)?;
        let repo = git2::Repository::open_bare(&bare).map_err(|source| MirrorError::Git {
            what: "no mirror of",
            url: url.to_string(),
            source,
        })?;
        let commit = commit_of(&repo, url, git_ref)?;
        let tree = commit.tree().map_err(|source| MirrorError::Git {
            what: "cannot read the tree of",
            url: url.to_string(),
            source,
        })?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        let Ok(blob) = repo.find_blob(entry.id()) else {
            return Ok(None);
        };
        String::from_utf8(blob.content().to_vec())
            .map(Some)
            .map_err(|_| MirrorError::Io {
                path: Path::new(path).to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
            })
    }
}

/// The commit `git_ref` names in `repo` (a commit id, a branch, a tag; HEAD when
/// `None`), which a checkout and a file read both start from.
fn commit_of<'r>(
    repo: &'r git2::Repository,
    url: &str,
    git_ref: Option<&str>,
) -> Result<git2::Commit<'r>, MirrorError> {
    let spec = git_ref.unwrap_or("HEAD");
    repo.revparse_single(spec)
        .or_else(|_| repo.revparse_single(&format!("refs/heads/{spec}")))
        .or_else(|_| repo.revparse_single(&format!("refs/tags/{spec}")))
        .and_then(|o| o.peel_to_commit())
        .map_err(|source| MirrorError::UnknownRef {
            url: url.to_string(),
            git_ref: spec.to_string(),
            source,
        })
}

/// Points a new mirror's HEAD where upstream's does, so `None` means its default branch.
fn set_head_from_remote(repo: &git2::Repository, remote: &mut git2::Remote<'_>) {
    let head = remote
        .default_branch()
        .ok()
        .and_then(|b| b.as_str().ok().map(str::to_string));
    let head = head.or_else(|| {
        ["refs/heads/main", "refs/heads/master"]
            .into_iter()
            .find(|r| repo.find_reference(r).is_ok())
            .map(str::to_string)
    });
    if let Some(h) = head {
        let _ = repo.set_head(&h);
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// A real upstream repository with two commits on `main` and a tag on the first.
    fn upstream(dir: &Path) -> PathBuf {
        let repo = dir.join("upstream/task.git");
        let work = dir.join("work");
        let git = |args: &[&str], cwd: &Path| {
            let ok = Command::new("git")
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example",
                    "-c",
                    "init.defaultBranch=main",
                ])
                .args(args)
                .current_dir(cwd)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        std::fs::create_dir_all(&work).unwrap();
        git(&["init", "-q"], &work);
        std::fs::write(work.join("runtask.yml"), "v1\n").unwrap();
        git(&["add", "."], &work);
        git(&["commit", "-qm", "one"], &work);
        git(&["tag", "v1"], &work);
        std::fs::write(work.join("runtask.yml"), "v2\n").unwrap();
        git(&["commit", "-qam", "two"], &work);
        std::fs::create_dir_all(repo.parent().unwrap()).unwrap();
        git(
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                repo.to_str().unwrap(),
            ],
            dir,
        );
        repo
    }

    #[test]
    fn clones_once_fetches_when_stale_and_checks_out_refs() {
        let dir = tempfile::tempdir().unwrap();
        let url = upstream(dir.path()).display().to_string();
        let mirror = Mirror::new(&dir.path().join("mirror"), Duration::from_secs(3600));
        assert_eq!(mirror.update(&url, false).unwrap(), Refresh::Cloned);
        assert_eq!(mirror.update(&url, false).unwrap(), Refresh::Fresh);
        assert_eq!(mirror.update(&url, true).unwrap(), Refresh::Fetched);
        let head = mirror.checkout(&url, None, &dir.path().join("c1")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("c1/runtask.yml")).unwrap(),
            "v2\n"
        );
        let tagged = mirror
            .checkout(&url, Some("v1"), &dir.path().join("c2"))
            .unwrap();
        assert_ne!(head, tagged);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("c2/runtask.yml")).unwrap(),
            "v1\n"
        );
        let pinned = mirror
            .checkout(&url, Some(&tagged), &dir.path().join("c3"))
            .unwrap();
        assert_eq!(pinned, tagged);
        let e = mirror
            .checkout(&url, Some("nope"), &dir.path().join("c4"))
            .unwrap_err();
        assert!(e.to_string().starts_with("unknown ref `nope` in"), "{e}");
        let missing = Mirror::new(&dir.path().join("m2"), Duration::ZERO)
            .update(&dir.path().join("nowhere.git").display().to_string(), false)
            .unwrap_err();
        assert!(missing.to_string().starts_with("cannot clone"), "{missing}");
        assert!(!Mirror::new(&dir.path().join("m2"), Duration::ZERO)
            .path_of("x")
            .with_extension("partial")
            .join("HEAD")
            .exists());
    }
}
