//! One message through the trigger and into the scheduler, keeping the two in step:
//! jobs the scheduler refused are forgotten by the dedupe memory, so the message,
//! delivered again, yields them again. The file reader and the AMQP consumer share it.

use std::time::SystemTime;

use super::{Handled, Message, Trigger};
use taskotron_queue::scheduler::{Accepted, Origin, Scheduler, SchedulerError};

/// What became of one message.
#[derive(Debug)]
pub struct Dispatched {
    /// What the trigger made of it; `jobs` are the ones the scheduler now holds.
    pub handled: Handled,
    /// The scheduler had accepted this message id before (a redelivery); its jobs
    /// were not added again and `handled.jobs` is empty.
    pub replayed: bool,
}

/// Handles `message` and hands its jobs to `scheduler`.
///
/// # Errors
/// The scheduler could not store the jobs, or the trigger's plan finder could not
/// reach Koji or dist-git: the message must not be acknowledged.
pub fn dispatch(
    trigger: &mut Trigger,
    scheduler: &mut dyn Scheduler,
    message: &Message,
    now: SystemTime,
) -> Result<Dispatched, SchedulerError> {
    let mut handled = trigger.handle(message, now);
    if let Some(why) = handled.unavailable.take() {
        // Nothing of the message is kept: delivered again, it makes all its jobs.
        trigger.forget(&handled.jobs);
        return Err(SchedulerError::NotYet(why));
    }
    if handled.jobs.is_empty() {
        return Ok(Dispatched {
            handled,
            replayed: false,
        });
    }
    let origin = Origin {
        message_id: message.id.as_deref(),
        topic: &message.topic,
    };
    match scheduler.accept(origin, &handled.jobs) {
        Ok(Accepted::New(_)) => Ok(Dispatched {
            handled,
            replayed: false,
        }),
        Ok(Accepted::AlreadyAccepted) => {
            handled.jobs.clear();
            Ok(Dispatched {
                handled,
                replayed: true,
            })
        }
        Err(e) => {
            trigger.forget(&handled.jobs);
            Err(e)
        }
    }
}
