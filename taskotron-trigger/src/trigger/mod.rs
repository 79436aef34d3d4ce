//! The trigger: from bus messages to JobRequests. `message` reads messages and turns
//! known topics into trigger data, `rules` and `query` decide which tasks a message
//! asks for, `fanout` makes the JobRequests (per arch, deduplicated), and `dispatch`
//! hands them to the scheduler port (`dist_git` is the port that finds a build's
//! own tmt plans); `pump` drives it from a stream or a broker.

pub mod data;
pub mod dispatch;
/// The port that finds a build's plans (the model's, so that the library implements
/// it without depending on the trigger).
pub use taskotron_model::dist_git;
pub mod fanout;
pub mod message;
pub mod pump;
pub mod query;
pub mod rules;
pub mod stream;

pub use data::{Data, Fields};
pub use dispatch::{dispatch, Dispatched};
pub use dist_git::{DistGitPlans, FindError, PlanFinder};
pub use fanout::{Handled, Trigger, DEFAULT_WINDOW};
pub use message::Message;
pub use pump::{Pump, PumpEvent, PumpObserver, StreamEnd, Tally};
pub use query::Query;
pub use rules::{Action, Rule, Rules};
pub use stream::{MessageStream, Record};
