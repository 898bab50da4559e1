//! Server-only code: AWS access, the in-memory inventory, configuration, the
//! HTTP service and the embedded demo endpoint. `app/` never imports this.

pub mod actions;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod check;
pub mod clock;
pub mod config;
pub mod detail;
pub mod diagnosis;
pub mod error;
pub mod export;
pub mod failures;
pub mod health;
pub mod inventory;
pub mod lease;
pub mod mail;
pub mod metrics;
pub mod readers;
pub mod requests;
pub mod security;
pub mod selection;
pub mod store;
pub mod trail;

pub use background::Background;
mod background;

use std::sync::Arc;

/// Everything a request handler or server function needs, provided to
/// Leptos as context.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: leptos::prelude::LeptosOptions,
    pub inventory: Arc<inventory::Inventory>,
    pub config: Arc<config::Config>,
    /// "demo endpoint", "http://127.0.0.1:4566", "AWS us-east-1".
    pub source_label: String,
    /// The accounts × regions read; the detail page and the actions call
    /// AWS through the source of the secret's account and region.
    pub sources: aws::Sources,
    pub details: Arc<detail::DetailCache>,
    pub health: Arc<health::HealthMonitor>,
    /// CloudTrail rotation outcomes, when `[cloudtrail] enabled`: one per
    /// source (by its id), read with the source's credentials.
    pub trails: Vec<(String, Arc<trail::TrailCache>)>,
    /// HTTP and alert counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Users, sessions, the audit trail and login throttling.
    pub auth: Arc<auth::Auth>,
    pub origin: security::OriginPolicy,
    /// The `Host` names the dashboard answers (DNS rebinding).
    pub hosts: security::HostPolicy,
    /// Each user's budget of server functions that read AWS.
    pub aws_reads: Arc<auth::limiter::UserBuckets>,
    /// Each user's budget of secret pages read live on first view.
    pub page_reads: Arc<auth::limiter::UserBuckets>,
    /// Restricted views for users whose grants do not cover everything.
    pub scoped: Arc<auth::ScopedViews>,
    /// Actions started per user, for the per-user limit.
    pub actions: Arc<actions::Actions>,
    /// Access-request messages on the alerts webhook, when one is set.
    pub notifier: Option<alerts::Notifier>,
    /// Access-request mail, when `requests.smtp_url` is set.
    pub mailer: Option<Arc<mail::Mailer>>,
    /// One resource-policy edit at a time in this process (grants, expiries,
    /// revocations); across replicas, a lease per secret (`requests`).
    pub grant_edits: Arc<tokio::sync::Mutex<()>>,
    /// Single sign-on flows in progress and the provider's metadata.
    pub oidc: Arc<auth::oidc::Oidc>,
    /// Reads what a rotation diagnosis needs (`[diagnosis]`), cached and
    /// within a call budget shared by every user.
    pub diagnoser: Arc<diagnosis::Diagnoser>,
    /// Who reads each secret (CloudTrail GetSecretValue events).
    pub readers: Arc<readers::ReaderBook>,
    /// New readers already alerted.
    pub alerted: Arc<readers::pass::Alerted>,
}

impl AppState {
    /// The state for `config`: a fresh detail cache, and a health monitor
    /// that reads replica status from it and alerts through the webhook
    /// of `config.alerts`, if any.
    pub fn new(
        leptos_options: leptos::prelude::LeptosOptions,
        inventory: Arc<inventory::Inventory>,
        config: Arc<config::Config>,
        source_label: String,
        sources: impl Into<aws::Sources>,
        auth: Arc<auth::Auth>,
    ) -> AppState {
        let details: Arc<detail::DetailCache> = Default::default();
        let cache = details.clone();
        let metrics = Arc::new(metrics::Metrics::new());
        let mailer = mailer(&config);
        let (sink, notifier) = match alert_sink(&config, &metrics) {
            Some(sink) => {
                let notifier = sink.notifier();
                (Some(sink as Arc<dyn health::AlertSink>), Some(notifier))
            }
            None => (None, None),
        };
        let health = health::HealthMonitor::new(
            config.health.clone(),
            inventory.clone(),
            std::time::Duration::from_secs(config.alerts.evaluate_every_secs),
            sink,
        )
        .with_replicas(move |now| cache.replica_states(now));
        let page_reads = Arc::new(auth::limiter::UserBuckets::new(
            config.actions.page_reads_per_user_per_minute,
            config.actions.page_reads_burst,
        ));
        let aws_reads = Arc::new(auth::limiter::UserBuckets::new(
            config.actions.aws_reads_per_user_per_minute,
            config.actions.aws_reads_burst,
        ));
        let diagnoser = Arc::new(diagnosis::Diagnoser::new(&config.diagnosis));
        // Validated with the configuration: a bad search never gets here.
        inventory
            .set_high_value(crate::domain::query::Query::parse(&config.readers.high_value).ok());
        AppState {
            leptos_options,
            inventory,
            config,
            source_label,
            sources: sources.into(),
            details,
            health: Arc::new(health),
            trails: Vec::new(),
            metrics,
            origin: security::OriginPolicy {
                public_origin: auth.settings.public_url.clone(),
                https: auth.settings.https,
            },
            aws_reads,
            page_reads,
            hosts: security::HostPolicy::new(
                auth.settings.public_url.as_deref(),
                &auth.settings.allowed_hosts,
            ),
            auth,
            scoped: Default::default(),
            actions: Default::default(),
            notifier,
            mailer,
            grant_edits: Default::default(),
            oidc: Default::default(),
            diagnoser,
            readers: Default::default(),
            alerted: Default::default(),
        }
    }

    /// What `who` may see of the inventory at `now`, with its health.
    pub fn view_for(
        &self,
        who: &auth::Principal,
        now: crate::domain::Timestamp,
    ) -> Arc<health::HealthView> {
        self.scoped.view_for(self.health.current(now), who)
    }

    /// Reads rotation outcomes from CloudTrail through `trail`, for every
    /// source (one account: tests and the one-source commands).
    pub fn with_trail(mut self, trail: Option<aws::RotationTrail>) -> AppState {
        self.trails = trail
            .map(|t| (String::new(), Arc::new(trail::TrailCache::new(t))))
            .into_iter()
            .collect();
        self
    }

    /// Reads rotation outcomes from each source's own CloudTrail, when
    /// `[cloudtrail] enabled`.
    pub fn with_source_trails(mut self) -> AppState {
        if self.config.cloudtrail.enabled {
            self.trails = self
                .sources
                .all()
                .iter()
                .map(|s| {
                    let t = aws::RotationTrail::for_source(s, &self.config.cloudtrail);
                    (s.id(), Arc::new(trail::TrailCache::new(t)))
                })
                .collect();
        }
        self
    }

    /// The CloudTrail of the account and region `s` is in.
    pub fn trail_of(&self, s: &crate::domain::Secret) -> Option<&Arc<trail::TrailCache>> {
        if let [(_, only)] = self.trails.as_slice() {
            return Some(only);
        }
        self.trail_of_source(&self.source_of(s).ok()?.id())
    }

    /// The CloudTrail of source `id` (the only one when one source reads
    /// everything).
    pub fn trail_of_source(&self, id: &str) -> Option<&Arc<trail::TrailCache>> {
        match self.trails.as_slice() {
            [(_, only)] if self.sources.all().len() == 1 => Some(only),
            all => all.iter().find(|(t, _)| t == id).map(|(_, t)| t),
        }
    }

    /// The source that reads `s`'s account and region.
    pub fn source_of(&self, s: &crate::domain::Secret) -> Result<&aws::Source, error::AppError> {
        self.sources.reading(&s.account, &s.region).ok_or_else(|| {
            error::AppError::new(
                error::ErrorKind::NotFound,
                format!(
                    "No configured source reads account {} in {} any more, so {} cannot be reached. \
                     Check [[sources]] in the configuration.",
                    s.account, s.region, s.name
                ),
                format!("no source for {} in {}/{}", s.arn, s.account, s.region),
            )
        })
    }

    /// The source that reads the secret `arn`.
    pub fn source_of_arn(&self, arn: &str) -> Result<&aws::Source, error::AppError> {
        self.sources.for_arn(arn).ok_or_else(|| {
            error::AppError::new(
                error::ErrorKind::NotFound,
                format!(
                    "No configured source reads the account and region of {arn}. Check [[sources]] in the configuration."
                ),
                format!("no source for {arn}"),
            )
        })
    }
}

/// The access-request mailer of `config.requests`, if configured (an
/// unusable one is logged and left off).
fn mailer(config: &config::Config) -> Option<Arc<mail::Mailer>> {
    let url = config
        .requests
        .smtp_url
        .as_deref()
        .filter(|u| !u.is_empty())?;
    match mail::Mailer::new(url, &config.requests.mail_from) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            tracing::error!("access-request mail is off: {e}");
            None
        }
    }
}

/// The webhook sink of `config.alerts`, its delivery task started on the
/// current runtime. None without a webhook URL, with an invalid one (logged;
/// `secretscope_alerts_enabled` stays 0), or outside a runtime.
fn alert_sink(
    config: &config::Config,
    metrics: &Arc<metrics::Metrics>,
) -> Option<Arc<alerts::WebhookSink>> {
    let built = alerts::WebhookSink::new(
        &config.alerts,
        config.health.clone(),
        metrics.clone(),
        alerts::RetryPolicy::default(),
    );
    match built {
        Ok(None) => None,
        Ok(Some((sink, delivery))) => match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(delivery.run());
                Some(Arc::new(sink))
            }
            Err(_) => {
                tracing::error!("alerts are off: no async runtime to deliver them on");
                None
            }
        },
        Err(e) => {
            tracing::error!("alerts are off: {e}");
            None
        }
    }
}

impl axum::extract::FromRef<AppState> for leptos::prelude::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
