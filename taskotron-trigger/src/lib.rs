//! Taskotron's trigger: bus messages (a JSON-lines file or RabbitMQ) matched
//! against the rules and turned into `JobRequest`s per arch, handed to the queue
//! (`trigger`); the bus adapters (`bus`, with the AMQP consumer behind the `amqp`
//! feature).
//!
//! **Invariant: the trigger decides which jobs a message makes and hands them to
//! the `Scheduler` port; it never runs one.** It stands on the model, the
//! configuration's defaults, the process adapter (signals) and the queue's port;
//! what finds an fmf plan in dist-git is a trait ([`trigger::PlanFinder`]) the
//! library implements above it. A tidy test (`tests/tests/invariants.rs`) keeps the
//! crate graph as ARCHITECTURE.md writes it.

#![warn(missing_docs)]

pub mod bus;
pub mod trigger;
