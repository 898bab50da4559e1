//! Everything that talks to AWS Secrets Manager, always through
//! `aws-sdk-secretsmanager`: the client for a source, call counting, the
//! rate budget, and the sync passes. CloudTrail, optional, through
//! `aws-sdk-cloudtrail` for rotation outcomes and, between list passes,
//! the write events the incremental pass follows.

pub mod client;
pub mod cloudtrail;
pub mod incremental;
pub mod rate;
pub mod sources;
pub mod sync;

pub use client::{build_client, ApiCounters, Source};
pub use cloudtrail::RotationTrail;
pub use sources::Sources;
