pub mod actions;
pub mod diagnosis;
pub mod dialog;
pub mod header;
pub mod health;
pub mod requests;
pub mod time;
pub mod timeline;
