//! Bodhi comments for `bodhi_update` results, as Taskotron posted them: the comment
//! text, the rules for when to post, and a client for the current API.

mod client;
mod comment;
mod flow;
mod notes;

pub use client::{BodhiClient, BodhiError, PostedComment};
pub use comment::{
    decide, parse_comment, text, DoReport, Earlier, Planned, Rules, DEFAULT_SPAN_MINUTES,
};
pub use flow::{
    comment_on, submit, CommentError, CommentRequest, Commented, Notes, Posted, Submission,
};
pub use notes::{notes, NAMES};
