//! The trigger: from bus messages to JobRequests. This part holds the rules'
//! MongoDB-style queries; message consumers, the rules file and fan-out come next.

pub mod message;
pub mod query;
pub mod rules;

pub use query::Query;
pub use rules::{Action, Rule, Rules};
