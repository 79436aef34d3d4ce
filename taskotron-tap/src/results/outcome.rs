//! Check outcomes, their priority order and aggregation. Pure; no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::suggest::did_you_mean;

/// What a check found, least to most important (the original `outcome_priority`):
/// when outcomes are aggregated, the worst (the last here) wins.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// The item is fine.
    Passed,
    /// The item is fine, but something is worth reading.
    Info,
    /// The item fails the check.
    Failed,
    /// The check could not decide; a person should look. An unset outcome reads as this.
    #[default]
    NeedsInspection,
    /// The check stopped itself because of an outside problem; running it later may help.
    Aborted,
    /// The check crashed and gave no usable result.
    Crashed,
}

impl Outcome {
    /// Every outcome, in priority order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Passed,
        Outcome::Info,
        Outcome::Failed,
        Outcome::NeedsInspection,
        Outcome::Aborted,
        Outcome::Crashed,
    ];

    /// The name as written in results: `PASSED`, `NEEDS_INSPECTION`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "PASSED",
            Outcome::Info => "INFO",
            Outcome::Failed => "FAILED",
            Outcome::NeedsInspection => "NEEDS_INSPECTION",
            Outcome::Aborted => "ABORTED",
            Outcome::Crashed => "CRASHED",
        }
    }

    /// Success, for `exitcode` and summaries: PASSED or INFO.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Passed | Outcome::Info)
    }

    /// ABORTED or CRASHED: the check itself broke.
    pub fn is_broken(self) -> bool {
        matches!(self, Outcome::Aborted | Outcome::Crashed)
    }

    /// The worst of `outcomes`, or `None` for none.
    pub fn worst(outcomes: impl IntoIterator<Item = Outcome>) -> Option<Outcome> {
        outcomes.into_iter().max()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome `{input}`")]
pub struct OutcomeError {
    /// What was given.
    pub input: String,
    /// The outcome it most likely meant.
    pub suggestion: Option<&'static str>,
}

impl OutcomeError {
    /// What would have been accepted.
    pub fn expected() -> String {
        crate::suggest::one_of(Outcome::ALL.iter().map(|o| o.as_str()))
    }
}

impl FromStr for Outcome {
    type Err = OutcomeError;

    /// Reads an outcome; case does not matter (`passed` is `PASSED`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        if let Some(o) = Outcome::ALL.into_iter().find(|o| o.as_str() == upper) {
            return Ok(o);
        }
        let suggestion = match upper.as_str() {
            "PASS" | "OK" => Some("PASSED"),
            "FAIL" | "ERROR" => Some("FAILED"),
            "WAIVED" => Some("PASSED"),
            _ => did_you_mean(&upper, Outcome::ALL.iter().map(|o| o.as_str())),
        };
        let suggestion = suggestion.and_then(|n| {
            Outcome::ALL
                .iter()
                .find(|o| o.as_str() == n)
                .map(|o| o.as_str())
        });
        Err(OutcomeError {
            input: s.to_string(),
            suggestion,
        })
    }
}

/// Counts per outcome in priority order, zero counts left out: `3 PASSED, 1 FAILED`
/// (the original `create_multi_item_summary`).
pub fn summary(outcomes: impl IntoIterator<Item = Outcome>) -> String {
    let mut counts = [0usize; 6];
    for o in outcomes {
        counts[o as usize] += 1;
    }
    Outcome::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{n} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_and_aggregation() {
        use Outcome::*;
        assert!(
            Passed < Info
                && Info < Failed
                && Failed < NeedsInspection
                && NeedsInspection < Aborted
                && Aborted < Crashed
        );
        assert_eq!(Outcome::worst([Passed, Failed, Info]), Some(Failed));
        assert_eq!(Outcome::worst([]), None);
        assert_eq!(
            summary([Passed, Failed, Passed, Passed, Info]),
            "3 PASSED, 1 INFO, 1 FAILED"
        );
        assert_eq!(summary([]), "");
        assert!(Info.is_success() && !Failed.is_success() && Crashed.is_broken());
        assert_eq!(Outcome::default(), NeedsInspection);
    }

    #[test]
    fn parses_with_suggestions() {
        assert_eq!("passed".parse::<Outcome>().unwrap(), Outcome::Passed);
        assert_eq!(
            "NEEDS_INSPECTION".parse::<Outcome>().unwrap(),
            Outcome::NeedsInspection
        );
        assert_eq!(
            "PASS".parse::<Outcome>().unwrap_err().suggestion,
            Some("PASSED")
        );
        assert_eq!(
            "FIALED".parse::<Outcome>().unwrap_err().suggestion,
            Some("FAILED")
        );
        assert_eq!(
            serde_json::to_string(&Outcome::NeedsInspection).unwrap(),
            "\"NEEDS_INSPECTION\""
        );
    }
}
