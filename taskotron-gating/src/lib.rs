//! Gating as Greenwave answers it: may this build or update pass a gate
//! (`bodhi_update_push_stable`, ...)?
//!
//! - [`policy`] reads Greenwave policy YAML (`--- !Policy` documents with
//!   `!PassingTestCaseRule` and `!RemoteRule`), from configuration or from a
//!   package's dist-git `gating.yaml`, with a position for every refusal;
//! - [`request`] reads a decision request (Greenwave's JSON body) and says which
//!   field is wrong;
//! - [`waiver`] is WaiverDB's waiver: a new one checked field by field, a stored one
//!   in WaiverDB's shape;
//! - [`decision`] evaluates the policies over the facts a [`decision::Facts`]
//!   implementation hands it and answers in Greenwave's shape.
//!
//! **Invariant: no I/O.** Results, waivers, dist-git files and queued jobs come in
//! through [`decision::Facts`]; the caller (the CLI's `decide`, the web's
//! `/api/v1.0/decision`) owns the stores. That keeps the decision one function
//! that tests drive with plain values and the benchmark measures without a
//! server.

#![warn(missing_docs)]

pub mod decision;
pub mod glob;
pub mod policy;
pub mod request;
pub mod waiver;

pub use decision::{decide, Decision, DecisionError, Facts, Requirement};
pub use policy::{parse_policies, Origin, Policy, Rule};
pub use request::{DecisionRequest, FieldError, Subject};
pub use waiver::{NewWaiver, Waiver};
