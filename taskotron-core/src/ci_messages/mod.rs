//! Fedora CI messages: each job says on the bus that its test is queued, running,
//! complete or in error (`<prefix>.koji-build.test.<stage>` for a Koji build,
//! `<prefix>.fedora-update.test.<stage>` for a Bodhi update; the Fedora CI messages
//! schema, version 1.x), so Bodhi's CI status and ResultsDB's listener follow our
//! jobs as they follow Fedora CI's.
//!
//! [`message`] builds one message from a job and one line of its history
//! (*invariant: no I/O*); [`publisher`] reads the queue's event feed from its
//! cursor, looks up what Koji knows of the build (the artifact's task id and
//! issuer; for an update, Bodhi's list of its builds first), publishes with the broker's confirmation and only then moves the
//! cursor: every event is published at least once, with a message id of its own,
//! so a consumer that sees one twice can tell.

pub mod message;
pub mod publisher;

pub use message::{
    message, stage_of, Artifact, CiMessage, CiSettings, Contact, Stage, Subject, VERSION,
};
pub use publisher::{Builds, Fedora, Published, Publisher, PublisherError, CURSOR};
