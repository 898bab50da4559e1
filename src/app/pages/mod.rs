pub mod audit;
pub mod inventory;
pub mod login;
pub mod not_found;
pub mod oncall;
pub mod overview;
pub mod requests;
pub mod secret;
