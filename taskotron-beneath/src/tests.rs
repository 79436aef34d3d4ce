use std::io::{Read, Write};
use std::os::unix::fs::symlink;

use proptest::prelude::*;

use super::*;

/// A root with a file, a directory and links out of it to a canary outside.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    canary: PathBuf,
    outside: PathBuf,
}

const CANARY: &str = "canary: the host's own file\n";

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let canary = outside.join("canary");
    std::fs::write(&canary, CANARY).unwrap();
    std::fs::write(root.join("sub/file"), "inside\n").unwrap();
    symlink(&canary, root.join("link")).unwrap();
    symlink(&outside, root.join("dirlink")).unwrap();
    // A link that stays inside is refused too: no link is followed at all.
    symlink(root.join("sub/file"), root.join("inlink")).unwrap();
    symlink("sub", root.join("reldirlink")).unwrap();
    Tree {
        _tmp: tmp,
        root,
        canary,
        outside,
    }
}

impl Tree {
    fn dir(&self) -> Dir {
        Dir::open(&self.root).unwrap()
    }

    fn canary_untouched(&self) {
        assert_eq!(std::fs::read_to_string(&self.canary).unwrap(), CANARY);
        let names: Vec<_> = std::fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsStr::new("canary")], "nothing new outside");
    }
}

fn both(test: impl Fn(Resolver)) {
    test(Resolver::Openat2);
    test(Resolver::Components);
}

#[test]
fn reads_refuse_every_link_and_what_is_not_a_file() {
    let t = tree();
    let d = t.dir();
    let mut text = String::new();
    d.read("sub/file")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "inside\n");
    for rel in ["link", "inlink", "dirlink/canary", "reldirlink/file"] {
        let e = d.read(rel).unwrap_err();
        assert!(matches!(e, Error::Link { .. }), "{rel}: {e}");
        assert!(e.is_refusal());
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
    for rel in [
        "../outside/canary",
        "/etc/passwd",
        "sub/../../outside/canary",
    ] {
        let e = d.read(rel).unwrap_err();
        assert!(matches!(e, Error::Outside { .. }), "{rel}: {e}");
    }
    let e = d.read("sub").unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotRegular {
                what: "a directory",
                ..
            }
        ),
        "{e}"
    );
    assert!(d.read("missing").unwrap_err().is_not_found());
    t.canary_untouched();
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let t = tree();
    let fifo = t.root.join("fifo");
    rustix::fs::mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
    let e = t.dir().read("fifo").unwrap_err();
    assert!(matches!(e, Error::NotRegular { what: "a FIFO", .. }), "{e}");
}

#[test]
fn both_resolvers_refuse_links_on_the_way() {
    let t = tree();
    let d = t.dir();
    both(|how| {
        for rel in ["dirlink", "reldirlink", "sub/../dirlink"] {
            let names = match d.names(Path::new(rel)) {
                Ok(n) => n,
                Err(e) => {
                    assert!(rel.contains(".."), "{rel}: {e}");
                    continue;
                }
            };
            let e = d.walk_with(how, Path::new(rel), &names).unwrap_err();
            assert!(matches!(e, Error::Link { .. }), "{how:?} {rel}: {e}");
        }
        let names = d.names(Path::new("sub")).unwrap();
        d.walk_with(how, Path::new("sub"), &names).unwrap();
        let names = d.names(Path::new("sub/file")).unwrap();
        let e = d.walk_with(how, Path::new("sub/file"), &names).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{how:?}: {e}");
    });
}

#[test]
fn writes_replace_a_planted_link_and_never_write_through_it() {
    let t = tree();
    let d = t.dir();
    d.write("link", "the runner's\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(t.root.join("link")).unwrap(),
        "the runner's\n"
    );
    assert!(!t.root.join("link").symlink_metadata().unwrap().is_symlink());
    let mut f = d.create("inlink").unwrap();
    f.write_all(b"log\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(t.root.join("sub/file")).unwrap(),
        "inside\n"
    );
    for rel in ["dirlink/new", "reldirlink/new", "../outside/new"] {
        assert!(d.write(rel, "x").unwrap_err().is_refusal(), "{rel}");
        assert!(d.create(rel).unwrap_err().is_refusal(), "{rel}");
    }
    let e = d.write("sub", "x").unwrap_err();
    assert!(matches!(e, Error::NotRegular { .. }), "{e}");
    t.canary_untouched();
    // No temporary file is left behind, whatever was refused.
    let left: Vec<_> = std::fs::read_dir(&t.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary() {
    let t = tree();
    let d = t.dir();
    d.write("kept", "old\n").unwrap();
    let e = d
        .write_with("kept", |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert_eq!(
        std::fs::read_to_string(t.root.join("kept")).unwrap(),
        "old\n"
    );
    assert_eq!(
        std::fs::read_dir(&t.root).unwrap().count(),
        std::fs::read_dir(&t.root)
            .unwrap()
            .filter(|e| !e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
            .count()
    );
}

#[test]
fn directories_are_made_and_opened_without_links() {
    let t = tree();
    let d = t.dir();
    let made = d.create_dir_all("a/b/c").unwrap();
    made.write("f", "x").unwrap();
    assert!(t.root.join("a/b/c/f").is_file());
    assert_eq!(made.path(), t.root.join("a/b/c"));
    for rel in ["dirlink", "dirlink/x", "reldirlink/x", "link/x"] {
        assert!(d.create_dir_all(rel).unwrap_err().is_refusal(), "{rel}");
    }
    assert!(matches!(
        d.open_dir("dirlink").unwrap_err(),
        Error::Link { .. }
    ));
    t.canary_untouched();
}

#[test]
fn entries_are_looked_at_not_followed_and_removed_as_links() {
    let t = tree();
    let d = t.dir();
    assert_eq!(d.entry("link").unwrap().unwrap().kind, Kind::Link);
    assert_eq!(d.entry("sub").unwrap().unwrap().kind, Kind::Dir);
    assert_eq!(
        d.entry("sub/file").unwrap().unwrap(),
        Entry {
            kind: Kind::File,
            len: 7
        }
    );
    assert_eq!(d.entry("nothing").unwrap(), None);
    assert_eq!(d.entry("nothing/below").unwrap(), None);
    assert!(d.entry("dirlink/canary").unwrap_err().is_refusal());
    d.remove_file("link").unwrap();
    d.remove_file("link").unwrap();
    assert!(t.root.join("link").symlink_metadata().is_err());
    t.canary_untouched();
}

#[test]
fn a_file_made_before_is_recognised_after() {
    let t = tree();
    let d = t.dir();
    let f = d.create("log").unwrap();
    assert!(d.holds("log", &f));
    std::fs::remove_file(t.root.join("log")).unwrap();
    symlink(&t.canary, t.root.join("log")).unwrap();
    assert!(!d.holds("log", &f));
}

#[test]
fn placing_links_or_copies_over_what_was_there() {
    let t = tree();
    let d = t.dir();
    let source = t._tmp.path().join("cached.rpm");
    std::fs::write(&source, "rpm bytes").unwrap();
    d.place("link", &source).unwrap();
    assert_eq!(
        std::fs::read_to_string(t.root.join("link")).unwrap(),
        "rpm bytes"
    );
    assert!(d.place("dirlink/x.rpm", &source).unwrap_err().is_refusal());
    t.canary_untouched();
}

#[test]
fn roots_take_the_longest_fitting_directory_and_nothing_else() {
    let t = tree();
    let task = Dir::open(&t.root).unwrap();
    let sub = Dir::open(&t.root.join("sub")).unwrap();
    let roots = Roots::new(vec![("the task directory", task), ("the workdir", sub)]);
    let (dir, rel) = roots.locate(&t.root.join("sub/file")).unwrap();
    assert_eq!(
        (dir.path(), rel.as_path()),
        (t.root.join("sub").as_path(), Path::new("file"))
    );
    let (dir, rel) = roots.locate(Path::new("sub/file")).unwrap();
    assert_eq!(
        (dir.path(), rel.as_path()),
        (t.root.as_path(), Path::new("sub/file"))
    );
    let e = roots.locate(&t.canary).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("under none of them"), "{text}");
    assert!(
        text.contains("the task directory `") && text.contains(" or the workdir `"),
        "{text}"
    );
    let e = roots
        .locate(&t.root.join("sub/../../outside/canary"))
        .unwrap_err();
    assert!(e.to_string().contains("climbs with `..`"), "{e}");
    assert!(roots.read(&t.root.join("link")).unwrap_err().is_refusal());
}

proptest! {
    /// Whatever path is asked for, built from names, `..`, `.`, links and
    /// separators, nothing outside the root is read, written or made.
    #[test]
    fn no_path_reaches_outside(parts in prop::collection::vec(
        prop::sample::select(vec!["sub", "file", "link", "dirlink", "inlink", "reldirlink", "..", ".", "", "new", "canary"]),
        1..6,
    ), absolute in any::<bool>()) {
        let t = tree();
        let d = t.dir();
        let mut text = parts.join("/");
        if absolute {
            text.insert(0, '/');
        }
        let rel = Path::new(&text);
        if let Ok(mut f) = d.read(rel) {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            prop_assert_ne!(s, CANARY);
        }
        let _ = d.write(rel, "written");
        let _ = d.create_dir_all(rel);
        let _ = d.place(rel, &t.root.join("sub/file"));
        let _ = d.remove_file(rel);
        t.canary_untouched();
    }

    /// `plain` never panics, and what it accepts has no `..` and is relative.
    #[test]
    fn plain_accepts_only_plain_names(text in "[a-z./\\x00]{0,20}") {
        if let Ok(names) = plain(Path::new(&text)) {
            prop_assert!(!text.starts_with('/'));
            prop_assert!(names.iter().all(|n| *n != ".." && !n.is_empty()));
        }
    }
}

#[test]
fn a_listing_shows_links_as_links() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a"), "12345").unwrap();
    std::fs::create_dir(t.path().join("d")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", t.path().join("l")).unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let mut listed: Vec<(String, Kind, u64)> = dir
        .list()
        .unwrap()
        .into_iter()
        .map(|(n, e)| (n.to_string_lossy().into_owned(), e.kind, e.len))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(listed[0], ("a".into(), Kind::File, 5));
    assert_eq!(listed[1].1, Kind::Dir);
    assert_eq!(listed[2].1, Kind::Link);
    assert_eq!(listed.len(), 3);
}
