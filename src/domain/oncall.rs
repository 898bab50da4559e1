//! The on-call queue's view: its order, its filters (environment, account,
//! owner, one secret) as they travel in the URL, and the address of one
//! incident, which alerts link to.
//!
//! Pure: the server filters and sorts with it, the page writes its form and
//! links with it, the alerts write their link with it.

use crate::domain::health::Severity;
use crate::domain::links::{query_value, uri_path};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Longest filter value read from the URL (secret names are at most 512).
pub const MAX_VALUE: usize = 512;
/// The owner filter's value for "no owner known".
pub const NO_OWNER: &str = "-";

/// How the queue is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Failed before overdue, the most recent first: what broke last night.
    #[default]
    Newest,
    /// Failed before overdue, the longest broken first.
    Oldest,
    /// Worst severity first (configurable per rule), then the most recent.
    Severity,
}

impl Order {
    pub const ALL: [Order; 3] = [Order::Newest, Order::Oldest, Order::Severity];

    pub fn as_str(self) -> &'static str {
        match self {
            Order::Newest => "newest",
            Order::Oldest => "oldest",
            Order::Severity => "severity",
        }
    }

    pub fn parse(s: &str) -> Option<Order> {
        Order::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Order::Newest => "Newest first",
            Order::Oldest => "Longest broken first",
            Order::Severity => "Worst severity first",
        }
    }
}

/// The queue's view as the URL holds it: `?order=&env=&account=&owner=&incident=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OncallFilter {
    pub order: Order,
    /// An environment: the `env` tag's value, or the name's first segment.
    pub env: Option<String>,
    pub account: Option<String>,
    /// An owner, or [`NO_OWNER`].
    pub owner: Option<String>,
    /// One secret (`?incident=`), by name, link or ARN: what an alert
    /// opens on. Not `secret=`: that names the secret an action was just
    /// done on, and the queue stays whole after an action.
    pub secret: Option<String>,
}

/// One queue entry as the filter and the order see it.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub link: &'a str,
    pub arn: &'a str,
    pub env: Option<&'a str>,
    pub account: &'a str,
    pub owner: Option<&'a str>,
    pub failed: bool,
    pub severity: Severity,
    /// When it broke, in seconds; `None`: unknown (always last).
    pub since: Option<i64>,
}

/// A value from the URL: trimmed, empty is absent, too long is ignored.
fn value(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() <= MAX_VALUE)
}

impl OncallFilter {
    /// From the URL's parameters (`get("order")`…); unknown orders are the default.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> OncallFilter {
        OncallFilter {
            order: get("order")
                .and_then(|o| Order::parse(o.trim()))
                .unwrap_or_default(),
            env: value(get("env")),
            account: value(get("account")),
            owner: value(get("owner")),
            secret: value(get("incident")),
        }
    }

    /// Any filter set (the order aside).
    pub fn is_filtered(&self) -> bool {
        self.env.is_some()
            || self.account.is_some()
            || self.owner.is_some()
            || self.secret.is_some()
    }

    pub fn matches(&self, e: &Entry) -> bool {
        let is = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        let owner_ok = match self.owner.as_deref() {
            None => true,
            Some(NO_OWNER) => e.owner.is_none(),
            Some(o) => e.owner == Some(o),
        };
        is(&self.env, e.env)
            && is(&self.account, Some(e.account))
            && owner_ok
            && self
                .secret
                .as_deref()
                .is_none_or(|s| s == e.name || s == e.link || s == e.arn)
    }

    /// `a` before `b` in this view's order; ties by name.
    pub fn compare(&self, a: &Entry, b: &Entry) -> Ordering {
        // Unknown starts go last in every order.
        let known = |e: &Entry| e.since.is_none();
        let newest = |x: &Entry, y: &Entry| y.since.cmp(&x.since);
        let first = match self.order {
            Order::Newest => (!a.failed)
                .cmp(&!b.failed)
                .then_with(|| known(a).cmp(&known(b)))
                .then_with(|| newest(a, b)),
            Order::Oldest => (!a.failed)
                .cmp(&!b.failed)
                .then_with(|| known(a).cmp(&known(b)))
                .then_with(|| a.since.cmp(&b.since)),
            Order::Severity => b
                .severity
                .cmp(&a.severity)
                .then_with(|| (!a.failed).cmp(&!b.failed))
                .then_with(|| known(a).cmp(&known(b)))
                .then_with(|| newest(a, b)),
        };
        first.then_with(|| a.name.cmp(b.name))
    }

    /// `?order=…&env=…` for this view (the default order left out), with
    /// `secret` only when `keep_secret`.
    pub fn query_string(&self, keep_secret: bool) -> String {
        let mut parts = Vec::new();
        if self.order != Order::default() {
            parts.push(format!("order={}", self.order.as_str()));
        }
        for (k, v) in [
            ("env", &self.env),
            ("account", &self.account),
            ("owner", &self.owner),
            ("incident", if keep_secret { &self.secret } else { &None }),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", query_value(v)));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// The element id of a queue entry: `incident-` and its link (the name, or
/// the ARN when the name is not unique), stable across refreshes and servers.
pub fn incident_id(link: &str) -> String {
    format!("incident-{link}")
}

/// What an alert about `name` links to: the queue narrowed to that secret,
/// scrolled to its entry.
pub fn incident_href(name: &str) -> String {
    format!(
        "/oncall?incident={}#{}",
        query_value(name),
        uri_path(&incident_id(name))
    )
}

/// The environment of a secret: its `env` tag (or `environment`), else the
/// first segment of a hierarchical name (`prod/payments/db` → `prod`).
pub fn env_of<'a>(name: &'a str, env_tag: Option<&'a str>) -> Option<&'a str> {
    env_tag
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| {
            name.split_once('/')
                .map(|(first, _)| first)
                .filter(|f| !f.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &'static str, failed: bool, since: Option<i64>) -> Entry<'static> {
        Entry {
            name,
            link: name,
            arn: "arn",
            env: env_of(name, None),
            account: if name.contains("pay") { "222" } else { "111" },
            owner: (!name.contains("orphan")).then_some("zoe@example.com"),
            failed,
            severity: if failed {
                Severity::Critical
            } else {
                Severity::High
            },
            since,
        }
    }

    fn sorted(f: &OncallFilter, mut v: Vec<Entry<'static>>) -> Vec<&'static str> {
        v.retain(|e| f.matches(e));
        v.sort_by(|a, b| f.compare(a, b));
        v.into_iter().map(|e| e.name).collect()
    }

    fn queue() -> Vec<Entry<'static>> {
        vec![
            entry("prod/old-failure", true, Some(100)),
            entry("prod/pay/new-failure", true, Some(900)),
            entry("dev/unknown-failure", true, None),
            entry("dev/orphan-overdue", false, Some(950)),
            entry("loose", false, Some(500)),
        ]
    }

    #[test]
    fn the_default_is_newest_failure_first_then_overdue() {
        let f = OncallFilter::from_query(|_| None);
        assert_eq!(f.order, Order::Newest);
        assert_eq!(
            sorted(&f, queue()),
            [
                "prod/pay/new-failure",
                "prod/old-failure",
                "dev/unknown-failure",
                "dev/orphan-overdue",
                "loose"
            ]
        );
    }

    #[test]
    fn oldest_and_severity_orders() {
        let oldest = OncallFilter::from_query(|k| (k == "order").then(|| "oldest".into()));
        assert_eq!(
            sorted(&oldest, queue()),
            [
                "prod/old-failure",
                "prod/pay/new-failure",
                "dev/unknown-failure",
                "loose",
                "dev/orphan-overdue"
            ]
        );
        let mut q = queue();
        // A rule configured worse than failed: severity wins over the kind.
        q[4].severity = Severity::Critical;
        q[0].severity = Severity::Medium;
        let sev = OncallFilter {
            order: Order::Severity,
            ..Default::default()
        };
        assert_eq!(
            sorted(&sev, q),
            [
                "prod/pay/new-failure",
                "dev/unknown-failure",
                "loose",
                "dev/orphan-overdue",
                "prod/old-failure"
            ]
        );
        let junk = OncallFilter::from_query(|k| (k == "order").then(|| "drop table".into()));
        assert_eq!(junk.order, Order::Newest);
    }

    #[test]
    fn filters_by_environment_account_owner_and_secret() {
        let by = |k: &'static str, v: &'static str| {
            OncallFilter::from_query(move |q| (q == k).then(|| v.to_string()))
        };
        assert_eq!(
            sorted(&by("env", "dev"), queue()),
            ["dev/unknown-failure", "dev/orphan-overdue"]
        );
        assert_eq!(
            sorted(&by("account", "222"), queue()),
            ["prod/pay/new-failure"]
        );
        assert_eq!(
            sorted(&by("owner", NO_OWNER), queue()),
            ["dev/orphan-overdue"]
        );
        assert_eq!(sorted(&by("owner", "zoe@example.com"), queue()).len(), 4);
        assert_eq!(sorted(&by("incident", "loose"), queue()), ["loose"]);
        assert_eq!(
            sorted(&by("env", "  "), queue()).len(),
            5,
            "empty is no filter"
        );
        let long = "x".repeat(MAX_VALUE + 1);
        let f = OncallFilter::from_query(|k| (k == "env").then(|| long.clone()));
        assert_eq!(f.env, None, "too long is ignored");
        let both = OncallFilter::from_query(|k| match k {
            "env" => Some("prod".into()),
            "account" => Some("111".into()),
            _ => None,
        });
        assert_eq!(sorted(&both, queue()), ["prod/old-failure"]);
    }

    #[test]
    fn the_view_round_trips_through_its_query_string() {
        let f = OncallFilter {
            order: Order::Oldest,
            env: Some("prod".into()),
            account: None,
            owner: Some("a b@example.com".into()),
            secret: Some("prod/x".into()),
        };
        let q = f.query_string(true);
        assert_eq!(
            q,
            "?order=oldest&env=prod&owner=a+b%40example.com&incident=prod%2Fx"
        );
        assert_eq!(
            f.query_string(false),
            "?order=oldest&env=prod&owner=a+b%40example.com"
        );
        assert_eq!(OncallFilter::default().query_string(true), "");
    }

    #[test]
    fn the_alert_link_names_the_queue_and_the_incident() {
        assert_eq!(
            incident_href("prod/payments/db"),
            "/oncall?incident=prod%2Fpayments%2Fdb#incident-prod/payments/db"
        );
        assert_eq!(incident_id("prod/payments/db"), "incident-prod/payments/db");
        // Anything a name may hold stays one fragment.
        assert_eq!(
            incident_href("a b#c"),
            "/oncall?incident=a+b%23c#incident-a%20b%23c"
        );
    }

    #[test]
    fn environment_is_the_tag_or_the_first_segment() {
        assert_eq!(env_of("prod/payments/db", None), Some("prod"));
        assert_eq!(env_of("prod/payments/db", Some("staging")), Some("staging"));
        assert_eq!(env_of("loose", None), None);
        assert_eq!(env_of("/odd", None), None);
    }
}
