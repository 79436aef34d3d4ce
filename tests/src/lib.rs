//! Cross-crate integration tests live in `tests/`; this library holds what several of
//! them share: [`bin`], the `taskotron` binary they run; [`rabbitmq`], a private RabbitMQ node on loopback, and [`git`], real
//! repositories.

pub mod bin;
pub mod git;
pub mod rabbitmq;
