//! Everything that talks to AWS Secrets Manager, always through
//! `aws-sdk-secretsmanager`: the client for a source, call counting, the
//! rate budget, and the sync passes.

pub mod client;
pub mod rate;
pub mod sync;

pub use client::{build_client, ApiCounters, Source};

#[cfg(test)]
mod tests;
