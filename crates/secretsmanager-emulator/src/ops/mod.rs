//! One file per Secrets Manager operation, each an `impl Store` block with
//! the operation's method (the dispatch table is in `crate::Inner::dispatch`).

mod cancel_rotate_secret;
mod create_secret;
mod delete_resource_policy;
mod delete_secret;
mod describe_secret;
mod get_resource_policy;
pub(crate) mod list_secret_version_ids;
pub(crate) mod list_secrets;
pub(crate) mod put_resource_policy;
mod put_secret_value;
mod restore_secret;
pub(crate) mod rotate_secret;
mod tag_resource;
mod untag_resource;
mod update_secret_version_stage;
mod validate_resource_policy;
