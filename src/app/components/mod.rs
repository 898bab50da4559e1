pub mod header;
pub mod time;
pub mod timeline;
