//! The store's contract: one async function per behaviour, each given a
//! fresh, empty database and run as its own test on SQLite (a file in a
//! temporary directory: `sqlite::<behaviour>`) and on PostgreSQL (a new
//! database in the cluster named by `SECRETSCOPE_TEST_POSTGRES_URL`;
//! `.ci/postgres` starts one: `postgres::<behaviour>`), so a failure names
//! both the behaviour and the backend.
//!
//! The behaviours live by topic in `users`, `audit`, `sessions`, `requests`
//! and `files` (which also holds the tests of opening and migrating that
//! need no contract); `contract!` below lists every one of them.

use super::*;
use crate::domain::Timestamp;
use std::sync::atomic::{AtomicUsize, Ordering};

mod audit;
mod files;
mod lease;
mod requests;
mod sessions;
mod users;

use audit::*;
use files::*;
use lease::*;
use requests::*;
use sessions::*;
use users::*;

const T0: i64 = 1_795_000_000;

fn t(secs: i64) -> Timestamp {
    Timestamp::new(T0 + secs)
}

/// A database made for one behaviour. Behaviours take `&Store` (through
/// `Deref`) unless, like reopening, they need the URL too.
struct Fixture {
    store: Store,
    url: String,
}

impl std::ops::Deref for Fixture {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// Where fresh databases come from.
trait Databases {
    async fn fresh(&mut self, behaviour: &str) -> Fixture;
    async fn done(&mut self, fixture: Fixture);
}

/// Runs one behaviour on a fresh database from `dbs`, then lets `dbs`
/// clean up after it.
async fn run_behaviour<D: Databases>(
    dbs: &mut D,
    name: &str,
    behaviour: impl AsyncFnOnce(&Fixture),
) {
    let fixture = dbs.fresh(name).await;
    eprintln!("{:?}: {name}", fixture.store.backend());
    behaviour(&fixture).await;
    dbs.done(fixture).await;
}

/// Generates, for the behaviours listed, one test per behaviour and backend
/// (`sqlite::NAME`, `postgres::NAME`), and `BEHAVIOURS`, their names.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        /// Every behaviour the contract runs, in the order listed.
        const BEHAVIOURS: &[&str] = &[$(stringify!($name)),*];

        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let mut dbs = super::SqliteFiles::new();
                    super::run_behaviour(&mut dbs, stringify!($name), async |f| super::$name(f).await)
                        .await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(mut dbs) = super::PostgresDatabases::from_env().await else {
                        return;
                    };
                    super::run_behaviour(&mut dbs, stringify!($name), async |f| super::$name(f).await)
                        .await;
                }
            )*
        }
    };
}

contract!(
    users_are_created_and_found,
    duplicate_user_names_conflict,
    users_are_listed_by_name_in_byte_order,
    users_can_be_disabled_and_given_passwords,
    password_hashes_never_print,
    grants_are_idempotent_listed_and_removed,
    user_groups_are_replaced_and_looked_up,
    sso_identities_link_once_and_find_their_user,
    a_password_change_can_end_a_users_sessions,
    audit_records_round_trip,
    audit_filters_by_each_field,
    audit_time_range_is_from_inclusive_to_exclusive,
    audit_pages_newest_first_with_total,
    audit_for_each_reads_everything_oldest_first,
    hostile_text_is_stored_verbatim,
    sessions_are_created_loaded_saved_and_deleted,
    expired_sessions_are_not_loaded_and_are_deleted,
    session_id_collisions_do_not_overwrite,
    access_requests_round_trip,
    access_requests_are_listed_newest_first_by_filter,
    access_requests_merge_into_the_pending_one,
    concurrent_duplicate_requests_make_one,
    access_request_transitions_compare_and_set,
    due_grants_may_hold_a_statement_and_are_past_their_time,
    unknown_request_status_is_a_decode_error,
    opening_twice_migrates_once,
    leases_are_exclusive_renewed_and_released,
    an_expired_lease_is_taken_over,
    concurrent_acquires_make_one_holder,
    alarm_changes_are_announced_once,
    messages_are_recorded_once_per_key_and_finished_once,
);

/// The contract runs every behaviour defined: a `pub(super) async fn` taking
/// `s: &Store` or `fixture: &Fixture` in a topic file that `contract!` does
/// not list would otherwise never run. (Listing one that does not exist
/// fails to compile.) Before the contract was split into one test per
/// behaviour it ran 25 on each backend; it may only grow.
#[test]
fn every_behaviour_is_in_the_contract() {
    let sources = [
        include_str!("users.rs"),
        include_str!("audit.rs"),
        include_str!("sessions.rs"),
        include_str!("requests.rs"),
        include_str!("files.rs"),
        include_str!("lease.rs"),
    ];
    let mut defined: Vec<&str> = sources
        .iter()
        .flat_map(|src| src.lines())
        .filter_map(|line| line.strip_prefix("pub(super) async fn "))
        .filter(|rest| rest.contains("(s: &Store)") || rest.contains("(fixture: &Fixture)"))
        .map(|rest| &rest[..rest.find('(').unwrap()])
        .collect();
    defined.sort_unstable();
    let mut listed = BEHAVIOURS.to_vec();
    listed.sort_unstable();
    assert_eq!(listed, defined);
    assert!(BEHAVIOURS.len() >= 26, "{} behaviours", BEHAVIOURS.len());
}

// ---- the two backends ----

struct SqliteFiles(tempfile::TempDir);

impl SqliteFiles {
    fn new() -> SqliteFiles {
        SqliteFiles(tempfile::tempdir().unwrap())
    }
}

impl Databases for SqliteFiles {
    async fn fresh(&mut self, behaviour: &str) -> Fixture {
        // A directory that does not exist yet: open creates it.
        let path = self.0.path().join(behaviour).join("store.db");
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.expect("open SQLite");
        assert!(path.is_file(), "the database file is created");
        Fixture { store, url }
    }

    async fn done(&mut self, fixture: Fixture) {
        fixture.store.close().await;
    }
}

/// A new database per behaviour in the cluster at `base`, dropped after it.
struct PostgresDatabases {
    base: String,
    admin: sqlx::AnyPool,
    run: String,
    made: usize,
}

/// Databases made by this process: with the process id and the time in
/// `run`, a name no other test, concurrent or earlier, has used.
static POSTGRES_MADE: AtomicUsize = AtomicUsize::new(0);

impl PostgresDatabases {
    /// The cluster named by `SECRETSCOPE_TEST_POSTGRES_URL`; `None` (the
    /// test passes, saying it skipped) when that is unset, except under
    /// `CI=true`, where it fails.
    async fn from_env() -> Option<PostgresDatabases> {
        let Ok(base) = std::env::var("SECRETSCOPE_TEST_POSTGRES_URL") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "SECRETSCOPE_TEST_POSTGRES_URL is not set under CI: .ci/test sources \
                     .ci/postgres, which starts PostgreSQL and sets it; see its output for why not"
                );
            }
            eprintln!(
                "skipped: SECRETSCOPE_TEST_POSTGRES_URL is not set; .ci/test starts PostgreSQL and sets it"
            );
            return None;
        };
        Some(PostgresDatabases::connect(base).await)
    }

    async fn connect(base: String) -> PostgresDatabases {
        sqlx::any::install_default_drivers();
        let admin = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&base)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to SECRETSCOPE_TEST_POSTGRES_URL: {e}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        PostgresDatabases {
            base,
            admin,
            run: format!("{}_{nanos}", std::process::id()),
            made: 0,
        }
    }

    fn database(&self) -> String {
        format!("secretscope_test_{}_{}", self.run, self.made)
    }
}

/// `url` naming database `db` instead of its own.
fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let root = match main[authority_start..].find('/') {
        Some(i) => &main[..authority_start + i],
        None => main,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl Databases for PostgresDatabases {
    async fn fresh(&mut self, _behaviour: &str) -> Fixture {
        self.made = POSTGRES_MADE.fetch_add(1, Ordering::Relaxed) + 1;
        let db = self.database();
        // A linguistic (ICU) default collation, where "alice" sorts before
        // "Bob": the schema must ask for byte order itself. PostgreSQL
        // before 15, or one built without ICU, gets its default.
        let icu = format!(
            "CREATE DATABASE {db} TEMPLATE template0 ENCODING 'UTF8' \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C' LC_CTYPE 'C'"
        );
        if let Err(e) = sqlx::query(&icu).execute(&self.admin).await {
            eprintln!("no ICU database ({e}); using the cluster's default collation");
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&self.admin)
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
        }
        let url = with_database(&self.base, &db);
        let store = Store::open(&url).await.expect("open PostgreSQL");
        Fixture { store, url }
    }

    async fn done(&mut self, fixture: Fixture) {
        fixture.store.close().await;
        let db = self.database();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .execute(&self.admin)
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {db}: {e}"));
        self.admin.close().await;
    }
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
}
