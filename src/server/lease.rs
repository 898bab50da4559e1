//! The lease: which replica runs the background work that must happen
//! once (the grant-expiry sweep, the alerts, the readers pass…; the table
//! is in the README, "Several replicas on PostgreSQL").
//!
//! **A row, not an advisory lock.** A PostgreSQL advisory lock lives as
//! long as the session that took it, so it would pin one pooled connection
//! for ever, vanish silently when that connection is recycled or cut by a
//! proxy, and exist on PostgreSQL only. A row in `leases` (name, holder,
//! expires_at) works the same on SQLite and PostgreSQL through the one SQL
//! text of the store, needs no connection of its own, and says who holds
//! it (`SELECT * FROM leases`). Its price is the expiry: a dead holder's
//! work resumes after at most the lease time plus one retry interval.
//!
//! **Acquire is one statement** (`Store::acquire_lease`): insert the row,
//! or take it over when it is ours or expired, atomically on both
//! backends. Renewing is the same statement, every `renew_every_secs`.
//! A clean shutdown releases it, so the next replica takes over at its
//! next try.
//!
//! **Clocks.** The expiry is written and compared with the database's
//! clock, in the same statement: replicas whose clocks disagree still agree
//! on who holds the lease. The holder counts its own time with a monotonic
//! clock from *before* it sent the statement, and stops its work at 90 %
//! of the lease time unless a renewal succeeded since: it stops before the
//! database would let anyone else in, as long as the two clocks run at the
//! same rate (they do; they need not agree on the time).
//!
//! Holder ids are `host:pid:random`: random so that a restarted process
//! (same host, perhaps the same pid in a container) is a new holder; the
//! host and pid only help the log.

use super::store::Store;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The lease every once-only task runs under: one holder does all of it,
/// which keeps the story simple (one replica to look at in the log).
pub const BACKGROUND: &str = "background";

/// `[store.lease]`: how long a lease lasts and how often it is renewed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LeaseSettings {
    /// Seconds a lease lasts unless renewed: the longest a dead holder's
    /// work waits before another replica takes it over (plus one
    /// `renew_every_secs`).
    pub secs: u64,
    /// Seconds between renewals by the holder, and between tries by the
    /// others. At most half of `secs` (a larger value is cut to it).
    pub renew_every_secs: u64,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            secs: 30,
            renew_every_secs: 10,
        }
    }
}

impl LeaseSettings {
    fn ttl(&self) -> Duration {
        Duration::from_secs(self.secs.max(1))
    }

    fn renew(&self) -> Duration {
        Duration::from_secs(self.renew_every_secs.max(1)).min(self.ttl() / 2)
    }
}

/// While held: since when, and until when this process may act on it.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    /// When this process took it (wall clock, for comparing with a
    /// snapshot's time).
    pub since: crate::domain::Timestamp,
    /// 90 % of the lease time after the last successful renewal was sent.
    pub until: Instant,
}

/// One lease, kept by [`Lease::spawn`]; its state is watched by the tasks
/// that run under it ([`Lease::run_while_held`]).
pub struct Lease {
    store: Store,
    name: String,
    holder: String,
    settings: LeaseSettings,
    held: watch::Sender<Option<Held>>,
}

/// A holder id: `host:pid:random`.
pub fn holder_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..12])
}

impl Lease {
    pub fn new(store: Store, name: &str, settings: &LeaseSettings) -> Arc<Lease> {
        Arc::new(Lease {
            store,
            name: name.to_string(),
            holder: holder_id(),
            settings: settings.clone(),
            held: watch::channel(None).0,
        })
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Whether this process holds the lease and may act on it now.
    pub fn is_held(&self) -> bool {
        self.held.borrow().is_some_and(|h| Instant::now() < h.until)
    }

    /// The lease as this process last saw it.
    pub fn state(&self) -> Option<Held> {
        *self.held.borrow()
    }

    /// One try: takes or renews the lease. True when held after it.
    pub async fn try_once(&self) -> bool {
        let sent = Instant::now();
        let ttl = self.settings.ttl();
        let asked = self
            .store
            .acquire_lease(&self.name, &self.holder, ttl.as_millis() as i64);
        let answer = tokio::time::timeout(self.settings.renew(), asked).await;
        let was = self.state();
        match answer {
            Ok(Ok(true)) => {
                let until = sent + ttl.mul_f64(0.9);
                let since = match was {
                    Some(h) if Instant::now() < h.until => h.since,
                    _ => {
                        tracing::info!(lease = %self.name, holder = %self.holder, "this replica holds the lease: it runs the once-only background work");
                        crate::server::clock::now()
                    }
                };
                self.held.send_replace(Some(Held { since, until }));
                true
            }
            Ok(Ok(false)) => {
                if was.is_some() {
                    tracing::warn!(lease = %self.name, holder = %self.holder, "the lease is held by another replica now: its work stops here");
                    self.held.send_replace(None);
                }
                false
            }
            Ok(Err(e)) => self.failed(was, &e.to_string()),
            Err(_) => self.failed(was, "no answer from the database in time"),
        }
    }

    /// A try that got no answer: still held until its time is up.
    fn failed(&self, was: Option<Held>, detail: &str) -> bool {
        tracing::warn!(lease = %self.name, %detail, "the lease could not be taken or renewed (will retry)");
        match was {
            Some(h) if Instant::now() < h.until => true,
            Some(_) => {
                tracing::warn!(lease = %self.name, "the lease ran out without a renewal: its work stops here");
                self.held.send_replace(None);
                false
            }
            None => false,
        }
    }

    /// Takes and renews the lease for ever (until aborted).
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                me.try_once().await;
                let mut wait = me.settings.renew();
                if let Some(h) = me.state() {
                    wait = wait.min(h.until.saturating_duration_since(Instant::now()));
                }
                tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
            }
        })
    }

    /// Gives the lease up (a clean shutdown), so another replica takes the
    /// work over at its next try.
    pub async fn release(&self) {
        self.held.send_replace(None);
        match self.store.release_lease(&self.name, &self.holder).await {
            Ok(true) => tracing::info!(lease = %self.name, "lease released"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(lease = %self.name, error = %e, "the lease could not be released; it expires by itself")
            }
        }
    }

    /// Runs `work()` while this process holds the lease: started when it
    /// is taken, aborted when it is lost or runs out without a renewal,
    /// started again when it is taken again.
    pub fn run_while_held<F, Fut>(self: &Arc<Self>, what: &'static str, work: F) -> JoinHandle<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut rx = self.held.subscribe();
        tokio::spawn(async move {
            loop {
                // Wait until held.
                let until = loop {
                    if let Some(h) = *rx.borrow_and_update() {
                        if Instant::now() < h.until {
                            break h.until;
                        }
                    }
                    if rx.changed().await.is_err() {
                        return;
                    }
                };
                tracing::debug!(task = what, "started under the lease");
                let mut task = Some(AbortOnDrop(tokio::spawn(work())));
                let mut until = until;
                loop {
                    let ended = async {
                        match task.as_mut() {
                            Some(t) => {
                                let _ = (&mut t.0).await;
                            }
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        // Done by itself (nothing to do here): not started
                        // again until the lease is lost and taken again.
                        _ = ended => task = None,
                        _ = tokio::time::sleep_until(until) => {
                            // Renewed since? Then keep going.
                            match *rx.borrow() {
                                Some(h) if h.until > until => until = h.until,
                                _ => break,
                            }
                        }
                        changed = rx.changed() => {
                            match (changed.is_ok(), *rx.borrow_and_update()) {
                                (true, Some(h)) => until = h.until,
                                _ => break,
                            }
                        }
                    }
                }
                if let Some(mut t) = task {
                    t.0.abort();
                    let _ = (&mut t.0).await;
                }
                tracing::debug!(task = what, "stopped: the lease is not held");
            }
        })
    }
}

/// A task that stops when its handle is dropped: the work under a lease
/// stops with its supervisor (a shutdown, a dropped `Background`).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn quick() -> LeaseSettings {
        LeaseSettings {
            secs: 2,
            renew_every_secs: 1,
        }
    }

    /// Waits (generously) until `f` holds.
    async fn until(what: &str, f: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(Instant::now() < deadline, "{what} did not happen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Two processes on one store: one runs the work; when it dies (its
    /// keeper stops renewing), its work stops before its lease runs out
    /// and the other takes the work over; a clean release hands it over at
    /// the next try.
    #[tokio::test]
    async fn one_holder_runs_the_work_and_a_dead_ones_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let (a, b) = (
            Lease::new(store.clone(), "work", &quick()),
            Lease::new(store.clone(), "work", &quick()),
        );
        assert_ne!(a.holder(), b.holder());
        let running = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let work = |lease: &Arc<Lease>, i: usize| {
            let running = running.clone();
            lease.run_while_held("test work", move || {
                let running = running.clone();
                async move {
                    running[i].fetch_add(1, Ordering::SeqCst);
                    struct Stop(Arc<[AtomicUsize; 2]>, usize);
                    impl Drop for Stop {
                        fn drop(&mut self) {
                            self.0[self.1].fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    let _stop = Stop(running, i);
                    std::future::pending::<()>().await
                }
            })
        };
        let keep_a = a.spawn();
        until("a holds the lease", || a.is_held()).await;
        let (_wa, _wb) = (work(&a, 0), work(&b, 1));
        let keep_b = b.spawn();
        until("a's work runs", || running[0].load(Ordering::SeqCst) == 1).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!b.is_held(), "b waits while a renews");
        assert_eq!(running[1].load(Ordering::SeqCst), 0);

        // a dies: nothing renews its lease any more.
        keep_a.abort();
        until("a's work stops", || running[0].load(Ordering::SeqCst) == 0).await;
        until("b takes the work over", || {
            running[1].load(Ordering::SeqCst) == 1
        })
        .await;
        assert!(!a.is_held() && b.is_held());
        assert_eq!(
            store.lease_holder("work").await.unwrap().unwrap().holder,
            b.holder()
        );

        // b shuts down cleanly: a (back) takes it at its next try.
        keep_b.abort();
        b.release().await;
        assert_eq!(store.lease_holder("work").await.unwrap(), None);
        until("b's work stops", || running[1].load(Ordering::SeqCst) == 0).await;
        let _keep_a = a.spawn();
        until("a takes the work back", || {
            running[0].load(Ordering::SeqCst) == 1
        })
        .await;
    }
}
