//! The two tar streams of a remote run: what goes (the task directory under
//! `task/`, the job and config files) and what comes back (`report.json` and the run's artifacts).
//! Coming back, only regular files and directories under the run's own prefix are
//! written, and only beneath the local run directory: a task that made links or
//! odd names in its artifacts cannot write anywhere else on this machine.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest task directory sent (a formula run from a home directory would
/// otherwise send the home directory).
const MAX_TASK_BYTES: u64 = 512 * 1024 * 1024;

/// Writes the outgoing tar stream to `out`.
///
/// # Errors
/// A file cannot be read or written, or the task directory is larger than
/// [`MAX_TASK_BYTES`].
pub fn pack(out: &Path, taskdir: &Path, files: &[(&str, Vec<u8>)]) -> Result<(), String> {
    let file = File::create(out).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    tar.follow_symlinks(false);
    let mut total = 0u64;
    add_dir(&mut tar, taskdir, Path::new("task"), &mut total)
        .map_err(|e| format!("cannot pack the task `{}`: {e}", taskdir.display()))?;
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes.as_slice())
            .map_err(|e| format!("cannot pack {name}: {e}"))?;
    }
    tar.into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map(drop)
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))
}

fn add_dir<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
    total: &mut u64,
) -> std::io::Result<()> {
    tar.append_dir(name, dir)?;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        // A checkout's git data is not the task, and can be large.
        if entry.file_name() == ".git" {
            continue;
        }
        let path = entry.path();
        let inner = name.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add_dir(tar, &path, &inner, total)?;
        } else if kind.is_file() || kind.is_symlink() {
            *total += entry.metadata()?.len();
            if *total > MAX_TASK_BYTES {
                return Err(std::io::Error::other(format!(
                    "it holds more than {} MiB, which a remote run does not send",
                    MAX_TASK_BYTES >> 20
                )));
            }
            tar.append_path_with_name(&path, &inner)?;
        }
    }
    Ok(())
}

/// What came back besides the artifacts written into the run directory.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// The report file's text.
    pub report: Option<String>,
    /// The remote run's `taskotron.log`, kept apart so the local log can take it.
    pub log: Option<Vec<u8>>,
    /// Entries left out: links, devices, names outside the prefix.
    pub skipped: usize,
}

/// Reads the incoming tar stream in `archive`: `report.json` into memory, the
/// entries under `prefix` into `run_dir`.
///
/// # Errors
/// The stream is not a tar stream, or a file cannot be written.
pub fn unpack(archive: &Path, prefix: &str, run_dir: &Path) -> Result<Unpacked, String> {
    let file =
        File::open(archive).map_err(|e| format!("cannot read the fetched artifacts: {e}"))?;
    let mut tar = tar::Archive::new(std::io::BufReader::new(file));
    let mut out = Unpacked::default();
    let entries = tar
        .entries()
        .map_err(|e| format!("the fetched artifacts are not a tar stream: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("the fetched artifacts are broken: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("the fetched artifacts are broken: {e}"))?
            .into_owned();
        let kind = entry.header().entry_type();
        if path == Path::new("report.json") && kind.is_file() {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the fetched report: {e}"))?;
            out.report = Some(text);
            continue;
        }
        let Some(inner) = within(&path, prefix) else {
            out.skipped += 1;
            continue;
        };
        if inner.as_os_str().is_empty() {
            continue;
        }
        let dest = run_dir.join(&inner);
        if kind.is_dir() {
            std::fs::create_dir_all(&dest)
                .map_err(|e| format!("cannot create `{}`: {e}", dest.display()))?;
        } else if kind.is_file() {
            if inner == Path::new("taskotron.log") {
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read the remote log: {e}"))?;
                out.log = Some(bytes);
                continue;
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
            }
            // A link left in the way (from an earlier attempt) is replaced, never
            // followed.
            if dest.symlink_metadata().is_ok_and(|m| !m.is_file()) {
                let _ = std::fs::remove_file(&dest);
            }
            let mut f = File::create(&dest)
                .map_err(|e| format!("cannot write `{}`: {e}", dest.display()))?;
            std::io::copy(&mut entry, &mut f)
                .map_err(|e| format!("cannot write `{}`: {e}", dest.display()))?;
        } else {
            out.skipped += 1;
        }
    }
    Ok(out)
}

/// `path` relative to `prefix` when it lies under it and has only plain parts.
fn within(path: &Path, prefix: &str) -> Option<PathBuf> {
    let path = path.strip_prefix(".").unwrap_or(path);
    let rest = path.strip_prefix(prefix).ok()?;
    rest.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| rest.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(dir: &Path, entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> PathBuf {
        let path = dir.join("in.tar");
        let mut b = tar::Builder::new(File::create(&path).unwrap());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            // Raw names: `set_path` itself refuses `..`, which a hostile stream
            // would not.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap();
        path
    }

    #[test]
    fn only_the_runs_files_come_back_and_only_into_the_run_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let tar = archive(
            tmp.path(),
            &[
                ("report.json", tar::EntryType::Regular, b"{}", None),
                ("artifacts/r1/out.txt", tar::EntryType::Regular, b"ok", None),
                (
                    "artifacts/r1/sub/x.log",
                    tar::EntryType::Regular,
                    b"x",
                    None,
                ),
                (
                    "artifacts/r1/taskotron.log",
                    tar::EntryType::Regular,
                    b"log",
                    None,
                ),
                (
                    "artifacts/r1/../../escape",
                    tar::EntryType::Regular,
                    b"no",
                    None,
                ),
                ("artifacts/r2/other", tar::EntryType::Regular, b"no", None),
                (
                    "artifacts/r1/link",
                    tar::EntryType::Symlink,
                    b"",
                    Some("/etc/passwd"),
                ),
                ("/etc/absolute", tar::EntryType::Regular, b"no", None),
            ],
        );
        let got = unpack(&tar, "artifacts/r1", &run).unwrap();
        assert_eq!(got.report.as_deref(), Some("{}"));
        assert_eq!(got.log.as_deref(), Some(&b"log"[..]));
        assert_eq!(std::fs::read(run.join("out.txt")).unwrap(), b"ok");
        assert_eq!(std::fs::read(run.join("sub/x.log")).unwrap(), b"x");
        assert!(!run.join("taskotron.log").exists());
        assert!(!run.join("link").exists() && run.join("link").symlink_metadata().is_err());
        assert!(!tmp.path().join("escape").exists());
        assert_eq!(got.skipped, 4);
    }

    #[test]
    fn what_goes_is_the_task_without_git_and_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let task = tmp.path().join("task");
        std::fs::create_dir_all(task.join(".git")).unwrap();
        std::fs::write(task.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(task.join("runtask.yml"), "name: x").unwrap();
        let out = tmp.path().join("out.tar");
        pack(&out, &task, &[("job.json", b"{}".to_vec())]).unwrap();
        let mut names: Vec<String> = tar::Archive::new(File::open(&out).unwrap())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["job.json", "task", "task/runtask.yml"]);
    }
}
