//! A result's identity, so that reporting the same run twice stores nothing twice.
//!
//! Every result sent carries an id in its data (`taskotron_result_id`). The id is
//! not random: it is a hash of what the result belongs to (the run's id, else the
//! build id the report names, else the bytes of the files reported) and of the
//! result itself (its position, testcase, outcome, note and data: item, type, arch
//! and keyvals). Reporting the same run again makes the same ids, which ResultsDB is
//! asked about before anything is sent; `--again` makes fresh ones on purpose.
//! *Invariant: pure; no I/O.*

use sha2::{Digest, Sha256};

use super::{ResultPayload, RESULT_ID_KEY};

/// What a report's results belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A run (its `run_id`), or a build (`build:<id>`), or reported files (`sha256:<hex>`
    /// of their bytes): the same report again makes the same ids.
    Of(String),
    /// Random ids: the results are sent anew even if ResultsDB has them (`--again`).
    Fresh,
}

impl Identity {
    /// The identity of a run.
    pub fn run(run_id: &str) -> Self {
        Identity::Of(format!("run:{run_id}"))
    }

    /// The identity of the results a report names by build id.
    pub fn build(build_id: &str) -> Self {
        Identity::Of(format!("build:{build_id}"))
    }

    /// The identity of results read from files with these contents, in order.
    pub fn files<'a>(contents: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut h = Sha256::new();
        for c in contents {
            h.update((c.len() as u64).to_le_bytes());
            h.update(c);
        }
        Identity::Of(format!("sha256:{}", hex(&h.finalize())))
    }

    /// The id of the result at `position` with this payload (its own id ignored).
    pub fn result_id(&self, position: usize, payload: &ResultPayload) -> String {
        let Identity::Of(owner) = self else {
            return uuid::Uuid::new_v4().to_string();
        };
        let mut data = payload.data.clone();
        data.remove(RESULT_ID_KEY);
        let mut h = Sha256::new();
        for part in [
            owner.as_str(),
            &position.to_string(),
            &payload.testcase.name,
            &payload.outcome,
            payload.note.as_deref().unwrap_or(""),
            &serde_json::to_string(&data).unwrap_or_default(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let digest = h.finalize();
        let mut bytes = [0_u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        // A UUID (version 8, "custom"), as the random ids are UUIDs.
        uuid::Builder::from_custom_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::resultsdb::{DataValue, Testcase};

    fn payload(outcome: &str, id: &str) -> ResultPayload {
        ResultPayload {
            outcome: outcome.into(),
            testcase: Testcase {
                name: "dist.rpmlint".into(),
                ref_url: None,
            },
            groups: Vec::new(),
            note: None,
            ref_url: Some("https://logs.example/random-group".into()),
            data: BTreeMap::from([
                ("item".to_string(), DataValue::One("htop-1-1.fc41".into())),
                (RESULT_ID_KEY.to_string(), DataValue::One(id.into())),
            ]),
        }
    }

    #[test]
    fn the_same_result_of_the_same_run_has_the_same_id() {
        let run = Identity::run("r-1");
        let a = run.result_id(0, &payload("PASSED", "x"));
        assert_eq!(
            a,
            run.result_id(0, &payload("PASSED", "y")),
            "its own id is ignored"
        );
        assert_eq!(a.len(), 36);
        assert_ne!(a, run.result_id(1, &payload("PASSED", "x")), "position");
        assert_ne!(a, run.result_id(0, &payload("FAILED", "x")), "outcome");
        assert_ne!(
            a,
            Identity::run("r-2").result_id(0, &payload("PASSED", "x"))
        );
        assert_ne!(
            a,
            Identity::build("r-1").result_id(0, &payload("PASSED", "x"))
        );
        assert_ne!(
            Identity::Fresh.result_id(0, &payload("PASSED", "x")),
            Identity::Fresh.result_id(0, &payload("PASSED", "x"))
        );
        let f = |parts: &[&[u8]]| Identity::files(parts.iter().copied());
        assert_eq!(f(&[b"ab", b"c"]), f(&[b"ab", b"c"]));
        assert_ne!(f(&[b"ab", b"c"]), f(&[b"a", b"bc"]));
    }
}
