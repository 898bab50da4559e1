//! Pure types and logic, compiled for the server and the browser.
//!
//! No async, no I/O, no clock: functions that depend on time take `now`.

pub mod access;
pub mod actions;
pub mod arn;
pub mod audit;
pub mod diagnosis;
pub mod glob;
pub mod health;
pub mod html;
pub mod links;
pub mod listing;
pub mod oncall;
pub mod owner;
pub mod policy;
pub mod query;
pub mod reads;
pub mod replica;
pub mod requests;
pub mod rotation_failure;
pub mod rotation_history;
pub mod secret;
pub mod state;
pub mod time;
pub mod tree;

pub use secret::{Label, Labels, RotationRules, Secret, Tag, Version, VersionId};
pub use state::State;
pub use time::Timestamp;
