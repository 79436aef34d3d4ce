//! Generated fmf trees for the tmt oracle tests and `cargo xtask bench tmt`.

use std::path::Path;

/// A tree shaped like a package's: `tests/<area>/<n>/main.fmf` inheriting an
/// area's `main.fmf`, tiers, tags, adjust rules on distro and arch, plans with
/// filters; `seed` varies which test has what.
pub fn generated_tree(dir: &Path, tests: usize, seed: u64) {
    let write = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(".fmf/version", "1\n");
    write(
        "plans/main.fmf",
        "discover:\n  how: fmf\nexecute:\n  how: tmt\n/tier1:\n  discover+:\n    filter: 'tier: 1'\n/all:\n  adjust:\n    - when: distro < fedora-40\n      enabled: false\n",
    );
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for area in 0..(tests / 10).max(1) {
        write(
            &format!("tests/area{area}/main.fmf"),
            &format!(
                "summary: area {area}\ncomponent: [pkg{area}]\ntier: {}\ncontact: qa{area}@example.org\nadjust:\n  - when: arch == s390x\n    tag+: [s390x]\n  - when: distro ~ ^centos\n    tier: 3\n    continue: false\n  - when: distro == fedora-41\n    duration: 15m\n",
                1 + area % 2
            ),
        );
    }
    for t in 0..tests {
        let area = t % (tests / 10).max(1);
        let mut text = format!("test: ./run.sh {t}\n");
        match next(5) {
            0 => text.push_str("tag: [quick]\n"),
            1 => text.push_str("tag+: [slow]\ntier: 2\n"),
            2 => text.push_str("adjust+:\n  - when: distro < fedora-41\n    enabled: false\n    because: too old\n"),
            3 => text.push_str("require: [make, gcc]\nduration: 1h\n"),
            _ => {}
        }
        if next(4) == 0 {
            text.push_str("link:\n  - verifies: https://bugzilla.redhat.com/1\n");
        }
        write(&format!("tests/area{area}/t{t}/main.fmf"), &text);
    }
}
