pub mod inventory;
pub mod not_found;
pub mod secret;
pub mod oncall;
pub mod overview;
