pub mod header;
pub mod time;
