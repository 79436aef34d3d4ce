//! Files beneath a directory, never through a symbolic link: the one way the runner
//! reads and writes the paths a task controls.
//!
//! A task's processes can write its workdir and its artifacts directory while the
//! runner, outside any sandbox and as the worker's user, reads and writes files
//! there too (the action logs, `execution.json`, the results, the downloads a
//! formula asks for, the JUnit file a suite wrote). A link the task planted would
//! send such a write, or such a read, anywhere the worker can reach. So every
//! such path is opened from a directory handle ([`Dir`]), one component at a time
//! or with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the kernel has it:
//!
//! - a relative path of plain names only (no `..`, nothing absolute), checked
//!   before the file system is touched;
//! - no symbolic link followed, in any component (not even one that stays inside);
//! - reads take regular files only (a FIFO would hang the runner, a device is no
//!   task's output), opened without blocking and checked on the open descriptor;
//! - a file is written under a fresh name made with `O_CREAT | O_EXCL |
//!   O_NOFOLLOW` and renamed over its final name, so whatever the task left at that
//!   name (a link, a file) is replaced, never written through; a directory there is
//!   refused.
//!
//! [`Roots`] maps the absolute paths a formula renders (`${workdir}/x.xml`) to one
//! of a run's directories by their text, before anything is opened.
//!
//! *Invariants: no path given to this crate is resolved through a symbolic link or
//! outside the directory it is given beneath; no unsafe code (the system calls are
//! rustix's); every failure is an [`Error`] that names the path.*
//!
//! Why not `cap-std`: it resolves beneath a directory too, but follows links that
//! stay inside, has no "regular files only" read, and brings seven crates for what
//! is here a few system calls on rustix, which the workspace already builds.

#![forbid(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, CWD};
use rustix::io::Errno;

/// Why a path was refused or could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path leaves the directories it must stay in.
    #[error("`{}` is outside {within}: {why}", path.display())]
    Outside {
        /// The path as given.
        path: PathBuf,
        /// The directories it had to be in, in words.
        within: String,
        /// What makes it leave them.
        why: &'static str,
    },
    /// A component of the path is a symbolic link.
    #[error(
        "`{}` is a symbolic link or passes through one; the runner follows no link in a run's files",
        path.display()
    )]
    Link {
        /// The path, under its directory.
        path: PathBuf,
    },
    /// The path names something that is not a regular file (read) or is a
    /// directory (write).
    #[error("`{}` is {what}, not a regular file", path.display())]
    NotRegular {
        /// The path, under its directory.
        path: PathBuf,
        /// What it is, in words (`a directory`, `a FIFO`).
        what: &'static str,
    },
    /// The operation failed for another reason (missing, no permission, full disk).
    #[error("`{}`: {source}", path.display())]
    Io {
        /// The path, under its directory.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// True when the path was refused (outside, a link, not a regular file) rather
    /// than failing in the file system: what a task did, not what the machine did.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Error::Io { .. })
    }

    /// True when nothing exists at the path.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Error::Outside { path, .. }
            | Error::Link { path }
            | Error::NotRegular { path, .. }
            | Error::Io { path, .. } => path,
        }
    }
}

/// What kind of entry a path names, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// Anything else (FIFO, socket, device).
    Other,
}

/// An entry's kind and length, as `lstat` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// What it is.
    pub kind: Kind,
    /// Its length in bytes.
    pub len: u64,
}

/// An open directory: every path given to its methods is resolved beneath it.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// How directories are walked: `openat2` with `RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS`, or one `openat(O_NOFOLLOW)` per component where the
/// kernel has no `openat2` (before 5.6, or a seccomp filter that refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolver {
    Openat2,
    Components,
}

/// 0: not known yet; 1: `openat2` works; 2: it does not.
static OPENAT2: AtomicU8 = AtomicU8::new(0);

fn resolver() -> Resolver {
    match OPENAT2.load(Ordering::Relaxed) {
        2 => Resolver::Components,
        _ => Resolver::Openat2,
    }
}

/// Tells apart the temporary names of one process's writes.
static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Dir {
    /// Opens the directory at `path`, a path the caller chose itself (a run's
    /// artifacts directory, its workdir): links in it are followed, as the
    /// machine's administrator may have made them. Nothing beneath it will be.
    ///
    /// # Errors
    /// It does not exist or is no directory.
    pub fn open(path: &Path) -> Result<Dir, Error> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io_error(path.to_path_buf(), e))?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Creates the directory at `path` (a path the caller chose, as for
    /// [`Dir::open`]) with its parents, and opens it.
    ///
    /// # Errors
    /// It cannot be created or opened.
    pub fn create_at(path: &Path) -> Result<Dir, Error> {
        std::fs::create_dir_all(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Dir::open(path)
    }

    /// The path this directory was opened at (for messages and for the paths
    /// handed to a task).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `rel` under this directory, as text for messages; nothing is resolved.
    pub fn shown(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Another handle to the same directory.
    ///
    /// # Errors
    /// No descriptor is left.
    pub fn try_clone(&self) -> Result<Dir, Error> {
        Ok(Dir {
            fd: self.fd.try_clone().map_err(|e| self.io(Path::new(""), e))?,
            path: self.path.clone(),
        })
    }

    /// The existing directory `rel` beneath this one.
    ///
    /// # Errors
    /// `rel` is not plain, a component is a link, or it is missing.
    pub fn open_dir(&self, rel: impl AsRef<Path>) -> Result<Dir, Error> {
        let rel = rel.as_ref();
        let names = self.names(rel)?;
        let fd = self.walk(rel, &names)?;
        Ok(Dir {
            fd,
            path: self.shown(rel),
        })
    }

    /// The directory `rel` beneath this one, created with its parents as needed.
    ///
    /// # Errors
    /// `rel` is not plain, a component is a link or no directory, or it cannot be
    /// created.
    pub fn create_dir_all(&self, rel: impl AsRef<Path>) -> Result<Dir, Error> {
        let rel = rel.as_ref();
        let names = self.names(rel)?;
        let mut current = self.fd.try_clone().map_err(|e| self.io(rel, e))?;
        for name in &names {
            match rustix::fs::mkdirat(&current, *name, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.io_errno(rel, e)),
            }
            current = self.step(&current, name, rel)?;
        }
        Ok(Dir {
            fd: current,
            path: self.shown(rel),
        })
    }

    /// Opens the regular file `rel` for reading.
    ///
    /// # Errors
    /// `rel` is not plain, a component is a link, it is no regular file, or it
    /// cannot be opened.
    pub fn read(&self, rel: impl AsRef<Path>) -> Result<File, Error> {
        let rel = rel.as_ref();
        let (parent, name) = self.parent_of(rel)?;
        // O_NONBLOCK: opening a FIFO with no writer would wait for ever.
        let fd = rustix::fs::openat(
            &parent,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(|e| self.link_or_io(rel, e))?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| self.io_errno(rel, e))?;
        let kind = FileType::from_raw_mode(stat.st_mode);
        if kind != FileType::RegularFile {
            return Err(Error::NotRegular {
                path: self.shown(rel),
                what: describe(kind),
            });
        }
        let flags = rustix::fs::fcntl_getfl(&fd).map_err(|e| self.io_errno(rel, e))?;
        rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)
            .map_err(|e| self.io_errno(rel, e))?;
        Ok(File::from(fd))
    }

    /// The whole of the regular file `rel` as text (lossily), refused beyond
    /// `limit` bytes.
    ///
    /// # Errors
    /// As [`Dir::read`]; or it is larger than `limit`.
    pub fn read_to_string(&self, rel: impl AsRef<Path>, limit: u64) -> Result<String, Error> {
        use std::io::Read;
        let rel = rel.as_ref();
        let file = self.read(rel)?;
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(rel, e))?;
        if bytes.len() as u64 > limit {
            return Err(self.io(
                rel,
                io::Error::other(format!("larger than {limit} bytes; not read")),
            ));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// What `rel` is, without following it; `None` when nothing is there.
    ///
    /// # Errors
    /// `rel` is not plain, a directory on the way is a link, or it cannot be
    /// looked at.
    pub fn entry(&self, rel: impl AsRef<Path>) -> Result<Option<Entry>, Error> {
        let rel = rel.as_ref();
        let (parent, name) = match self.parent_of(rel) {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        match rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(Entry {
                kind: match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => Kind::File,
                    FileType::Directory => Kind::Dir,
                    FileType::Symlink => Kind::Link,
                    _ => Kind::Other,
                },
                len: u64::try_from(stat.st_size).unwrap_or(0),
            })),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.io_errno(rel, e)),
        }
    }

    /// Removes the entry `rel` if it is not a directory (a link is removed, not
    /// followed); nothing there is no error.
    ///
    /// # Errors
    /// `rel` is not plain, a directory on the way is a link, or it cannot be
    /// removed.
    pub fn remove_file(&self, rel: impl AsRef<Path>) -> Result<(), Error> {
        let rel = rel.as_ref();
        let (parent, name) = match self.parent_of(rel) {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        match rustix::fs::unlinkat(&parent, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.io_errno(rel, e)),
        }
    }

    /// A new, empty file at `rel`, open for reading and writing, replacing any
    /// file or link that was there (never writing through it).
    ///
    /// # Errors
    /// `rel` is not plain, a directory on the way is a link, a directory is at
    /// `rel`, or the file cannot be made.
    pub fn create(&self, rel: impl AsRef<Path>) -> Result<File, Error> {
        let rel = rel.as_ref();
        let (parent, name) = self.parent_of(rel)?;
        let (file, tmp) = self.fresh(&parent, name, rel)?;
        self.rename_into(&parent, &tmp, name, rel)?;
        Ok(file)
    }

    /// Writes the file `rel` through `write`, under a fresh name renamed over
    /// `rel` once whole: readers see the old file or the new one, and whatever the
    /// task left at `rel` is replaced, never written through.
    ///
    /// # Errors
    /// As [`Dir::create`], or what `write` returned; nothing is left behind.
    pub fn write_with(
        &self,
        rel: impl AsRef<Path>,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> Result<(), Error> {
        let rel = rel.as_ref();
        let (parent, name) = self.parent_of(rel)?;
        let (file, tmp) = self.fresh(&parent, name, rel)?;
        let mut out = BufWriter::new(file);
        let written = write(&mut out).and_then(|()| out.flush());
        drop(out);
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&parent, &tmp, AtFlags::empty());
            return Err(self.io(rel, e));
        }
        self.rename_into(&parent, &tmp, name, rel)
    }

    /// Writes `bytes` as the file `rel`, as [`Dir::write_with`] does.
    ///
    /// # Errors
    /// As [`Dir::write_with`].
    pub fn write(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Result<(), Error> {
        self.write_with(rel, |out| out.write_all(bytes.as_ref()))
    }

    /// Puts the file at `from` (a path the caller owns, such as a download cache)
    /// at `rel`: a hard link where it can, a copy otherwise, under a fresh name
    /// renamed over `rel`.
    ///
    /// # Errors
    /// As [`Dir::create`], or `from` cannot be read.
    pub fn place(&self, rel: impl AsRef<Path>, from: &Path) -> Result<(), Error> {
        let rel = rel.as_ref();
        let (parent, name) = self.parent_of(rel)?;
        for _ in 0..TRIES {
            let tmp = temporary(name);
            match rustix::fs::linkat(CWD, from, &parent, &tmp, AtFlags::empty()) {
                Ok(()) => return self.rename_into(&parent, &tmp, name, rel),
                Err(Errno::EXIST) => continue,
                Err(_) => break,
            }
        }
        let mut source = File::open(from).map_err(|e| Error::Io {
            path: from.to_path_buf(),
            source: e,
        })?;
        let (mut file, tmp) = self.fresh(&parent, name, rel)?;
        if let Err(e) = io::copy(&mut source, &mut file) {
            let _ = rustix::fs::unlinkat(&parent, &tmp, AtFlags::empty());
            return Err(self.io(rel, e));
        }
        self.rename_into(&parent, &tmp, name, rel)
    }

    /// The entries of this directory (without `.` and `..`), each as it is,
    /// links not followed; read through the open descriptor, so a name swapped for
    /// a link after [`Dir::open_dir`] lists nothing elsewhere.
    ///
    /// # Errors
    /// The directory cannot be read.
    pub fn list(&self) -> Result<Vec<(std::ffi::OsString, Entry)>, Error> {
        use std::os::unix::ffi::OsStrExt;
        let here = Path::new("");
        let mut out = Vec::new();
        let entries = rustix::fs::Dir::read_from(&self.fd).map_err(|e| self.io_errno(here, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.io_errno(here, e))?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name == "." || name == ".." {
                continue;
            }
            if let Some(found) = self.entry(name)? {
                out.push((name.to_os_string(), found));
            }
        }
        Ok(out)
    }

    /// Whether `rel` is still `file` (the same inode on the same device): a file
    /// the runner made before a task ran, checked after it, since the task could
    /// have put another in its place.
    pub fn holds(&self, rel: impl AsRef<Path>, file: &File) -> bool {
        let Ok((parent, name)) = self.parent_of(rel.as_ref()) else {
            return false;
        };
        match (
            rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW),
            rustix::fs::fstat(file),
        ) {
            (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
            _ => false,
        }
    }

    /// The plain names of `rel`, or why it is not plain.
    fn names<'p>(&self, rel: &'p Path) -> Result<Vec<&'p OsStr>, Error> {
        plain(rel).map_err(|why| Error::Outside {
            path: rel.to_path_buf(),
            within: format!("`{}`", self.path.display()),
            why,
        })
    }

    /// The directory holding `rel`, opened beneath this one, and `rel`'s last name.
    fn parent_of<'p>(&self, rel: &'p Path) -> Result<(OwnedFd, &'p OsStr), Error> {
        let mut names = self.names(rel)?;
        let Some(name) = names.pop() else {
            return Err(Error::Outside {
                path: rel.to_path_buf(),
                within: format!("`{}`", self.path.display()),
                why: "it names no file",
            });
        };
        let parent = self.walk(rel, &names)?;
        Ok((parent, name))
    }

    /// Opens the directory `names` lead to, no link followed.
    fn walk(&self, rel: &Path, names: &[&OsStr]) -> Result<OwnedFd, Error> {
        self.walk_with(resolver(), rel, names)
    }

    fn walk_with(&self, how: Resolver, rel: &Path, names: &[&OsStr]) -> Result<OwnedFd, Error> {
        if names.is_empty() {
            return self.fd.try_clone().map_err(|e| self.io(rel, e));
        }
        if how == Resolver::Openat2 {
            let mut joined = OsString::new();
            for (i, n) in names.iter().enumerate() {
                if i > 0 {
                    joined.push("/");
                }
                joined.push(n);
            }
            match rustix::fs::openat2(
                &self.fd,
                &joined,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            ) {
                Ok(fd) => {
                    OPENAT2.store(1, Ordering::Relaxed);
                    return Ok(fd);
                }
                // No openat2 here (an old kernel, a seccomp filter): walk instead.
                Err(Errno::NOSYS | Errno::PERM | Errno::TOOBIG)
                    if OPENAT2.load(Ordering::Relaxed) != 1 =>
                {
                    OPENAT2.store(2, Ordering::Relaxed);
                }
                Err(Errno::LOOP | Errno::XDEV) => {
                    return Err(Error::Link {
                        path: self.shown(rel),
                    })
                }
                // Which component is no directory: a link (refused) or a file.
                Err(Errno::NOTDIR) => {}
                Err(e) => return Err(self.io_errno(rel, e)),
            }
        }
        let mut current = self.fd.try_clone().map_err(|e| self.io(rel, e))?;
        for name in names {
            current = self.step(&current, name, rel)?;
        }
        Ok(current)
    }

    /// One directory down from `from`, refusing a link.
    fn step(&self, from: &OwnedFd, name: &OsStr, rel: &Path) -> Result<OwnedFd, Error> {
        rustix::fs::openat(
            from,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            // O_DIRECTORY on a link says ENOTDIR on some kernels, ELOOP on others.
            Errno::NOTDIR
                if rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink) =>
            {
                Error::Link {
                    path: self.shown(rel),
                }
            }
            e => self.link_or_io(rel, e),
        })
    }

    /// A file under a fresh temporary name beside `name` in `parent`.
    fn fresh(&self, parent: &OwnedFd, name: &OsStr, rel: &Path) -> Result<(File, OsString), Error> {
        for _ in 0..TRIES {
            let tmp = temporary(name);
            match rustix::fs::openat(
                parent,
                &tmp,
                OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            ) {
                Ok(fd) => return Ok((File::from(fd), tmp)),
                // Someone (a task) holds that name: take another.
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(self.io_errno(rel, e)),
            }
        }
        Err(self.io(
            rel,
            io::Error::other("no free temporary name beside it after 100 tries"),
        ))
    }

    /// Renames `tmp` over `name` in `parent`; a directory at `name` is refused and
    /// `tmp` removed.
    fn rename_into(
        &self,
        parent: &OwnedFd,
        tmp: &OsStr,
        name: &OsStr,
        rel: &Path,
    ) -> Result<(), Error> {
        match rustix::fs::renameat(parent, tmp, parent, name) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = rustix::fs::unlinkat(parent, tmp, AtFlags::empty());
                Err(match e {
                    Errno::ISDIR | Errno::NOTEMPTY | Errno::EXIST => Error::NotRegular {
                        path: self.shown(rel),
                        what: "a directory",
                    },
                    e => self.io_errno(rel, e),
                })
            }
        }
    }

    fn link_or_io(&self, rel: &Path, e: Errno) -> Error {
        match e {
            Errno::LOOP => Error::Link {
                path: self.shown(rel),
            },
            e => self.io_errno(rel, e),
        }
    }

    fn io_errno(&self, rel: &Path, e: Errno) -> Error {
        io_error(self.shown(rel), e)
    }

    fn io(&self, rel: &Path, e: io::Error) -> Error {
        Error::Io {
            path: self.shown(rel),
            source: e,
        }
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// How many fresh temporary names are tried before giving up.
const TRIES: usize = 100;

fn temporary(name: &OsStr) -> OsString {
    let mut tmp = OsString::from(".");
    // Keep the name short: a long one plus the suffix could pass NAME_MAX.
    let bytes = name.as_bytes();
    tmp.push(OsStr::from_bytes(&bytes[..bytes.len().min(200)]));
    tmp.push(format!(
        ".taskotron-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    tmp
}

fn io_error(path: PathBuf, e: Errno) -> Error {
    Error::Io {
        path,
        source: io::Error::from_raw_os_error(e.raw_os_error()),
    }
}

fn describe(kind: FileType) -> &'static str {
    match kind {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

/// The names of a relative path made only of plain names (`.` is skipped), or why
/// it is not one. Pure: the file system is not touched.
///
/// # Errors
/// The path is absolute, climbs with `..`, or holds a NUL byte.
pub fn plain(rel: &Path) -> Result<Vec<&OsStr>, &'static str> {
    if rel.as_os_str().as_bytes().contains(&0) {
        return Err("it holds a NUL byte");
    }
    let mut names = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => names.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err("it climbs with `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("it is absolute"),
        }
    }
    Ok(names)
}

/// A run's directories, each with a name for messages; the first is where a
/// relative path is taken from.
#[derive(Debug)]
pub struct Roots {
    roots: Vec<(&'static str, Dir)>,
}

impl Roots {
    /// `roots` (name, directory), the first taking relative paths.
    pub fn new(roots: Vec<(&'static str, Dir)>) -> Self {
        Self { roots }
    }

    /// The directory called `name`.
    pub fn get(&self, name: &str) -> Option<&Dir> {
        self.roots.iter().find(|(n, _)| *n == name).map(|(_, d)| d)
    }

    /// The directory `path` is in and its path beneath it, by the path's text: a
    /// relative path is beneath the first root; an absolute one must start with one
    /// root's path (the longest that fits). Nothing is opened.
    ///
    /// # Errors
    /// The path is under none of them, or climbs with `..`.
    pub fn locate(&self, path: &Path) -> Result<(&Dir, PathBuf), Error> {
        let outside = |why| Error::Outside {
            path: path.to_path_buf(),
            within: self.described(),
            why,
        };
        let (dir, rel) = if path.is_absolute() {
            self.roots
                .iter()
                .filter_map(|(_, d)| path.strip_prefix(d.path()).ok().map(|r| (d, r)))
                .max_by_key(|(d, _)| d.path().as_os_str().len())
                .ok_or_else(|| outside("it is absolute and under none of them"))?
        } else {
            let (_, first) = self
                .roots
                .first()
                .ok_or_else(|| outside("there is no directory to resolve it in"))?;
            (first, path)
        };
        plain(rel).map_err(outside)?;
        Ok((dir, rel.to_path_buf()))
    }

    /// The roots in words: "the task directory `/t`, the workdir `/w` or ...".
    pub fn described(&self) -> String {
        let parts: Vec<String> = self
            .roots
            .iter()
            .map(|(n, d)| format!("{n} `{}`", d.path().display()))
            .collect();
        match parts.split_last() {
            None => "no directory".into(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// Opens the regular file `path` (see [`Roots::locate`]) for reading.
    ///
    /// # Errors
    /// As [`Roots::locate`] and [`Dir::read`].
    pub fn read(&self, path: &Path) -> Result<File, Error> {
        let (dir, rel) = self.locate(path)?;
        dir.read(rel)
    }

    /// The directory `path` (see [`Roots::locate`]), created as needed.
    ///
    /// # Errors
    /// As [`Roots::locate`] and [`Dir::create_dir_all`].
    pub fn create_dir_all(&self, path: &Path) -> Result<Dir, Error> {
        let (dir, rel) = self.locate(path)?;
        dir.create_dir_all(rel)
    }
}

#[cfg(test)]
mod tests;
