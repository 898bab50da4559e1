//! Page data, assembled on the server for the server functions beside it
//! (`api/*.rs`): the wire types of `api` filled from what `server` knows.
//! This is the one place where both meet, so `server` never needs `api`.

pub mod diagnosis;
pub mod health;
pub mod inventory;
pub mod inventory_facets;
pub mod readers;
pub mod secret;
