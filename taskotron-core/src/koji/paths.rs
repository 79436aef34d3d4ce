//! Where Koji keeps a build's files, as koji's own `PathInfo` lays them out:
//! `<topurl>[/vol/<volume>]/packages/<name>/<version>/<release>/<arch>/<nvra>.rpm`,
//! sub-packages in the parent build's directory, logs under `data/logs/<arch>/`.
//! Pure; no I/O.

use super::{Build, Rpm};

/// The directory of `build` on the file server at `topurl`.
pub fn build_dir(topurl: &str, build: &Build) -> String {
    let top = topurl.trim_end_matches('/');
    let vol = match build.volume_name.as_deref() {
        Some(v) if v != "DEFAULT" && !v.is_empty() => format!("/vol/{v}"),
        _ => String::new(),
    };
    format!(
        "{top}{vol}/packages/{}/{}/{}",
        build.name, build.version, build.release
    )
}

/// The URL of one RPM of `build`.
pub fn rpm_url(topurl: &str, build: &Build, rpm: &Rpm) -> String {
    format!(
        "{}/{}/{}",
        build_dir(topurl, build),
        rpm.arch,
        rpm.filename()
    )
}

/// The URL of the build log of `build` for `arch`.
pub fn log_url(topurl: &str, build: &Build, arch: &str) -> String {
    format!("{}/data/logs/{arch}/build.log", build_dir(topurl, build))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grep() -> Build {
        serde_json::from_str(
            r#"{"id": 2211083, "build_id": 2211083, "name": "grep", "version": "3.11",
                "release": "1.fc39", "nvr": "grep-3.11-1.fc39", "epoch": null,
                "state": 1, "volume_name": "DEFAULT", "package_name": "grep"}"#,
        )
        .unwrap()
    }

    fn rpm(name: &str, arch: &str) -> Rpm {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": name, "version": "3.11", "release": "1.fc39", "arch": arch,
            "epoch": null, "payloadhash": "00", "size": 1, "build_id": 2211083
        }))
        .unwrap()
    }

    #[test]
    fn urls_are_the_ones_koji_pathinfo_makes() {
        let top = "https://kojipkgs.fedoraproject.org/";
        assert_eq!(
            rpm_url(top, &grep(), &rpm("grep", "x86_64")),
            "https://kojipkgs.fedoraproject.org/packages/grep/3.11/1.fc39/x86_64/grep-3.11-1.fc39.x86_64.rpm"
        );
        assert_eq!(
            rpm_url(top, &grep(), &rpm("grep", "src")),
            "https://kojipkgs.fedoraproject.org/packages/grep/3.11/1.fc39/src/grep-3.11-1.fc39.src.rpm"
        );
        // A sub-package lives in its parent build's directory.
        assert_eq!(
            rpm_url(top, &grep(), &rpm("grep-debuginfo", "x86_64")),
            "https://kojipkgs.fedoraproject.org/packages/grep/3.11/1.fc39/x86_64/grep-debuginfo-3.11-1.fc39.x86_64.rpm"
        );
        let mut archived = grep();
        archived.volume_name = Some("f39".into());
        assert_eq!(
            log_url(top, &archived, "noarch"),
            "https://kojipkgs.fedoraproject.org/vol/f39/packages/grep/3.11/1.fc39/data/logs/noarch/build.log"
        );
    }
}
