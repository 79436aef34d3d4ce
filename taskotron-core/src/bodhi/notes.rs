//! What an update's comment says below its result: the run's regressions
//! against the previous build and the gates the update stands before. Reads the
//! history and decides the gates, so it does I/O (read-only); `comment` stays
//! pure.

use super::Notes;
use crate::dict::Regressions;
use crate::gating::GatingSettings;
use crate::results::CheckDetail;

/// How many newly failing tests a comment names before it says "and N more".
pub const NAMES: usize = 5;

/// The notes of every update `details` are about: `regressions` (the run's,
/// so far) and, with `gating`, each update's gates, decided now with `builds`
/// as its builds (none: Bodhi's list). An update with nothing to say gets no
/// entry.
pub fn notes(
    details: &[CheckDetail],
    regressions: Option<&Regressions>,
    gating: Option<&GatingSettings>,
    builds: &[String],
) -> Notes {
    let mut out = Notes::new();
    // Policies that cannot be read say so once per update, like a gate would.
    let policies = gating.map(|g| {
        crate::gating::load_policies(g.policies.as_deref()).map_err(|d| {
            d.iter()
                .map(crate::diagnostic::Diagnostic::one_line)
                .collect::<Vec<_>>()
                .join("; ")
        })
    });
    for d in details {
        if d.item_type.as_deref() != Some("bodhi_update") || out.contains_key(&d.item) {
            continue;
        }
        let mut lines = Vec::new();
        if let Some(r) = regressions {
            lines.push(r.headline(NAMES));
        }
        match (gating, &policies) {
            (Some(g), Some(Ok(policies))) => {
                for gate in crate::gating::gates_of(g, policies, &d.item, "bodhi_update", builds) {
                    lines.push(gate.line());
                }
            }
            (_, Some(Err(why))) => lines.push(format!("Gating: no decision: {why}")),
            _ => {}
        }
        if !lines.is_empty() {
            out.insert(d.item.clone(), lines.join("\n"));
        }
    }
    out
}
