//! What changed between two runs' tests. Pure.

use std::collections::HashMap;

use taskotron_model::dict::{Regressions, TestRef};

use crate::store::{CaseRow, Run};

/// Whether a case status is a failure (`failed`, or `error`: it did not run).
pub fn failing(status: &str) -> bool {
    matches!(status, "failed" | "error")
}

/// `run`'s tests against `base`'s (the earlier run): newly failing, fixed,
/// still failing, new and vanished, each sorted by check and name. A skipped
/// test counts as neither passing nor failing; a test named twice in a run
/// counts by its last status.
pub fn compare(base: &Run, run: &Run) -> Regressions {
    compare_cases(base, &run.cases)
}

/// [`compare`] for a run not kept yet, of which only the `cases` so far are
/// known (a Bodhi comment made while its run goes on).
pub fn compare_cases(base: &Run, cases: &[CaseRow]) -> Regressions {
    // Borrowed keys: a 20,000-test run is compared without copying a name;
    // only the tests that changed are copied into the answer, then sorted.
    fn statuses(cases: &[CaseRow]) -> HashMap<(&str, &str), &str> {
        cases
            .iter()
            .map(|c| ((c.check.as_str(), c.name.as_str()), c.status.as_str()))
            .collect()
    }
    let (before, now) = (statuses(&base.cases), statuses(cases));
    let test = |(check, name): (&str, &str)| TestRef {
        check: check.to_string(),
        name: name.to_string(),
    };
    let mut out = Regressions {
        base_run: base.info.run_id.clone(),
        // An update is named by the builds it was, which is what changed.
        base_item: if base.info.builds.is_empty() {
            base.info.item.clone()
        } else {
            base.info.builds.join(", ")
        },
        ..Regressions::default()
    };
    for (&key, &status) in &now {
        match before.get(&key) {
            None => out.new.push(test(key)),
            Some(&old) => match (failing(old), failing(status)) {
                // Passed (or skipped) before, failing now.
                (false, true) => out.newly_failing.push(test(key)),
                (true, true) => out.still_failing.push(test(key)),
                (true, false) if status == "passed" => out.fixed.push(test(key)),
                _ => {}
            },
        }
    }
    out.vanished = before
        .keys()
        .filter(|k| !now.contains_key(*k))
        .map(|&k| test(k))
        .collect();
    for list in [
        &mut out.new,
        &mut out.newly_failing,
        &mut out.still_failing,
        &mut out.fixed,
        &mut out.vanished,
    ] {
        list.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunInfo;

    fn run(id: &str, cases: &[(&str, &str)]) -> Run {
        Run {
            info: RunInfo {
                run_id: id.into(),
                item: format!("htop-{id}-1.fc41"),
                ..RunInfo::default()
            },
            results: Vec::new(),
            cases: cases
                .iter()
                .map(|(n, s)| CaseRow {
                    check: "dist.t".into(),
                    name: (*n).into(),
                    status: (*s).into(),
                    message: None,
                })
                .collect(),
        }
    }

    #[test]
    fn every_kind_of_change_is_found_and_said() {
        let base = run(
            "1",
            &[
                ("a", "passed"),
                ("b", "failed"),
                ("c", "failed"),
                ("d", "passed"),
                ("gone", "passed"),
                ("s", "skipped"),
            ],
        );
        let now = run(
            "2",
            &[
                ("a", "failed"),
                ("b", "passed"),
                ("c", "error"),
                ("d", "passed"),
                ("new", "failed"),
                ("s", "failed"),
            ],
        );
        let r = compare(&base, &now);
        let names = |v: &[TestRef]| v.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&r.newly_failing), ["a", "s"]);
        assert_eq!(names(&r.fixed), ["b"]);
        assert_eq!(names(&r.still_failing), ["c"]);
        assert_eq!(names(&r.new), ["new"]);
        assert_eq!(names(&r.vanished), ["gone"]);
        assert_eq!(r.base_item, "htop-1-1.fc41");
        assert_eq!(
            r.summary(),
            "2 tests newly fail since htop-1-1.fc41, 1 fixed, 1 still failing, 1 new, 1 gone"
        );
        let same = compare(&base, &base);
        assert_eq!(
            same.summary(),
            "no test newly fails since htop-1-1.fc41, 2 still failing"
        );
    }

    proptest::proptest! {
        /// Every test of either run is in exactly one list, or unchanged.
        #[test]
        fn the_lists_partition_the_tests(
            a in proptest::collection::btree_map("[a-e]", "passed|failed|error|skipped", 0..5),
            b in proptest::collection::btree_map("[a-e]", "passed|failed|error|skipped", 0..5),
        ) {
            let ra = run("1", &a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
            let rb = run("2", &b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
            let r = compare(&ra, &rb);
            let mut seen = std::collections::BTreeSet::new();
            for t in r.newly_failing.iter().chain(&r.fixed).chain(&r.still_failing).chain(&r.new).chain(&r.vanished) {
                proptest::prop_assert!(seen.insert(t.name.clone()), "{} twice", t.name);
            }
            for (name, status) in &b {
                if let Some(old) = a.get(name) {
                    let listed = seen.contains(name);
                    let changed = failing(old) != failing(status) && (failing(status) || status == "passed");
                    let both = failing(old) && failing(status);
                    proptest::prop_assert_eq!(listed, changed || both, "{} {} -> {}", name, old, status);
                }
            }
            proptest::prop_assert_eq!(r.new.len(), b.keys().filter(|k| !a.contains_key(*k)).count());
            proptest::prop_assert_eq!(r.vanished.len(), a.keys().filter(|k| !b.contains_key(*k)).count());
        }
    }
}
