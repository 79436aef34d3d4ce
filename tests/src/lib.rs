//! Cross-crate integration tests live in `tests/`; this library holds what several of
//! them share: [`bin`], the `taskotron` binary they run; [`sshd`], a private OpenSSH
//! server on loopback; [`rabbitmq`], a private
//! RabbitMQ node on loopback; [`fmf`], generated fmf trees; [`git`], real repositories; [`workers`], a private queue
//! and task path driven through the binary; [`python`], the interpreters tasks run on.

pub mod bin;
pub mod browser;
pub mod fmf;
pub mod git;
pub mod python;
pub mod rabbitmq;
pub mod sshd;
pub mod workers;
