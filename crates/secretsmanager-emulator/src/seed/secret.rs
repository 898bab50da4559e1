//! One seeded secret, one function per aspect (identity, KMS, tags,
//! description, age, rotation, replicas, versions, access, policy). The
//! order `Gen::secret` calls them in is the order they draw from the
//! generator: the seed's contract that the same seed gives the same inventory.

use super::*;
use rand::seq::SliceRandom;
use rand::Rng;

pub(super) const CLASSIFICATIONS: [&str; 4] = ["public", "internal", "confidential", "restricted"];
pub(super) const INTERVALS: [i64; 8] = [7, 14, 30, 30, 30, 60, 90, 90];
pub(super) const OTHER_REGIONS: [&str; 7] = [
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ca-central-1",
    "us-east-2",
];
pub(super) const REPLICA_FAILURES: [&str; 3] = [
    "Replication failed: Secret with this name already exists in this region.",
    "Replication failed: The KMS key for this Region is disabled or doesn't exist.",
    "Access to KMS is not allowed. Secrets Manager can't use the KMS key in the replica Region.",
];

pub(super) fn uuid_from<R: Rng>(rng: &mut R) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

pub(super) fn alnum<R: Rng>(rng: &mut R, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

impl Gen {
    /// One secret of `scenario`: each aspect in its own function, drawn from
    /// the generator in this order (the order is the seed's contract: the
    /// same seed gives the same inventory).
    pub(super) fn secret(&mut self, scenario: Scenario, hostile: Option<usize>) -> SeedSecret {
        // The secret's own seed: its readers draw from a stream of their own.
        let own_seed = self.rng.0;
        let ident = self.identity(scenario, hostile);
        let team_name = TEAMS[ident.team].0;
        let arn = format!(
            "arn:aws:secretsmanager:{}:{}:secret:{}-{}",
            self.region,
            self.account,
            ident.name,
            alnum(&mut self.rng, 6)
        );
        let (mut kms_default, mut kms_key_id) = self.kms(ident.team);
        let (owner_value, owner_email) = self.owner();
        let mut tags = self.tags(&ident, &owner_value);
        let mut description = self.description(&ident, &owner_value, &owner_email);
        if let Some(h) = hostile {
            hostile_payloads(h, &owner_email, &mut description, &mut tags);
        }
        let interval = *INTERVALS.choose(&mut self.rng).expect("intervals");
        let created = self.created(scenario, interval);
        let lambda_suffix = format!("{team_name}-{}", ident.engine);
        let shape = Shape {
            scenario,
            interval,
            created,
            lambda_suffix: &lambda_suffix,
        };
        let rot = self.rotation(&shape, ident.owning_service);
        let replication = self.replicas(scenario, kms_default);
        let (mut versions, custom_labels) = self.versions(&shape, &rot);
        let last_accessed = self.access(&shape, &rot, &mut versions);
        let last_changed = self.last_changed(&versions, created, rot.deleted);
        let mut resource_policy = self.resource_policy(ident.app, team_name);
        // After every draw (so no later draw moves): what the KMS and
        // resource-policy causes need of their secrets.
        if let Some(key) = rot.behaviour.and_then(special_key) {
            kms_default = false;
            kms_key_id = Some(key.arn(&self.account, &self.region));
        }
        if rot.behaviour == Some(LambdaBehaviour::Denied) {
            resource_policy = Some(self.denying_policy(rot.lambda_arn.as_deref(), resource_policy));
        }

        let deprecated_versions = versions.iter().filter(|v| v.stages.is_empty()).count();
        let has_owner_tag = tags.iter().any(|t| t.key == "owner");
        let mut data = SecretData {
            name: ident.name.clone(),
            arn: arn.clone(),
            description,
            kms_key_id,
            rotation_enabled: rot.enabled,
            rotation_lambda_arn: rot.lambda_arn.clone(),
            rotation_rules: rot.rules.clone(),
            last_rotated: rot.last_rotated,
            last_changed: Some(last_changed),
            last_accessed,
            deleted: rot.deleted,
            deletion_date: rot.deletion_date,
            next_rotation: rot.next_rotation,
            tags,
            versions,
            owning_service: ident.owning_service.map(str::to_string),
            created,
            primary_region: Some(self.region.clone()),
            replication,
            resource_policy,
        };
        let readers = self.readers(own_seed, scenario, &ident, &rot, &mut data);
        let plan = PlannedSecret {
            name: ident.name,
            arn,
            scenario,
            hostile: hostile.is_some(),
            kms_default,
            has_owner_tag,
            has_tags: !data.tags.is_empty(),
            deleted: rot.deleted.is_some(),
            accessed_after_deletion: rot.accessed_after_deletion,
            versions: data.versions.len(),
            deprecated_versions,
            custom_labels,
            rotation_lambda: rot.lambda_arn,
            lambda_behaviour: rot.behaviour,
            cause: rot.behaviour.and_then(|b| b.cause()).map(str::to_string),
            fails_at: rot.behaviour.and_then(|b| b.fails_at(1)),
            rotate_refused: rot.behaviour.is_some_and(|b| b.refused()),
            owning_service: data.owning_service.clone(),
            replica_regions: data.replication.iter().map(|r| r.region.clone()).collect(),
            has_resource_policy: data.resource_policy.is_some(),
            legacy_name: ident.legacy,
            env: ident.env.map(str::to_string),
            team: if ident.legacy {
                None
            } else {
                Some(team_name.to_string())
            },
            readers,
        };
        SeedSecret { data, plan }
    }

    /// Who reads the secret (from its own stream, after every other draw),
    /// and each version's LastAccessedDate raised to its last read.
    fn readers(
        &self,
        own_seed: u64,
        scenario: Scenario,
        ident: &Identity,
        rot: &RotationState,
        data: &mut SecretData,
    ) -> Vec<PlannedReader> {
        if !self.reads {
            return Vec::new();
        }
        let broken_key = match rot.behaviour {
            Some(LambdaBehaviour::KeyDisabled) => Some("disabled"),
            Some(LambdaBehaviour::KeyPending) => Some("pending deletion"),
            _ => None,
        }
        .zip(rot.stuck_pending_at.zip(data.kms_key_id.as_deref()))
        .map(|(state, (at, key))| {
            let why = format!(
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key. {key} is {state}."
            );
            (at, why)
        });
        let ctx = mix::ReadContext {
            now: self.now,
            account: &self.account,
            scenario,
            data,
            team: TEAMS[ident.team].0,
            app: ident.app,
            env: ident.env,
            accessed_after_deletion: rot.accessed_after_deletion,
            broken_key,
        };
        let readers = mix::plan_reads(&ctx, &mut mix::stream(own_seed));
        mix::align_versions(data, &readers, self.now, false);
        readers
    }

    /// The name and who it belongs to: a service's own secret, the hostile
    /// name, now and then a legacy flat name, else a hierarchical one.
    pub(super) fn identity(&mut self, scenario: Scenario, hostile: Option<usize>) -> Identity {
        if scenario == Scenario::ManagedByService {
            self.managed()
        } else if hostile == Some(0) {
            let name = self.unique(format!("prod/web/{}", HOSTILE_PAYLOADS[1]));
            Identity {
                name,
                env: Some("prod"),
                team: 0,
                app: None,
                engine: "apikey",
                human: "Web credential".to_string(),
                legacy: false,
                owning_service: None,
                service_tags: Vec::new(),
                service_description: None,
            }
        } else if hostile.is_none() && self.rng.gen_bool(0.03) {
            self.legacy()
        } else {
            self.hierarchical()
        }
    }

    /// KMS, an independent attribute: the default key (None) or one of the
    /// team's keys.
    pub(super) fn kms(&mut self, team: usize) -> (bool, Option<String>) {
        let kms_default = self.rng.gen_bool(0.4);
        let kms_key_id = if kms_default {
            None
        } else {
            Some(
                self.kms_pool[team]
                    .choose(&mut self.rng)
                    .expect("kms pool")
                    .clone(),
            )
        };
        (kms_default, kms_key_id)
    }

    /// The tags: a service's own, then (unless the secret has none) owner,
    /// team, env, classification, cost center and managed-by, each often.
    pub(super) fn tags(&mut self, ident: &Identity, owner_value: &str) -> Vec<Tag> {
        let team_name = TEAMS[ident.team].0;
        let mut tags: Vec<Tag> = ident.service_tags.clone();
        let no_tags = ident.owning_service.is_none()
            && self.rng.gen_bool(if ident.legacy { 0.4 } else { 0.06 });
        if no_tags {
            return tags;
        }
        let tag = |k: &str, v: String| Tag {
            key: k.to_string(),
            value: v,
        };
        if self.rng.gen_bool(0.85) {
            tags.push(tag("owner", owner_value.to_string()));
        }
        if self.rng.gen_bool(0.95) {
            tags.push(tag("team", team_name.to_string()));
        }
        if let Some(env) = ident.env {
            if self.rng.gen_bool(0.95) {
                tags.push(tag("env", env.to_string()));
            }
        }
        if self.rng.gen_bool(0.7) {
            let c = *CLASSIFICATIONS.choose(&mut self.rng).expect("classes");
            tags.push(tag("data-classification", c.to_string()));
        }
        if self.rng.gen_bool(0.6) {
            tags.push(tag(
                "cost-center",
                format!("CC-{}", 1000 + ident.team * 17 + 3),
            ));
        }
        if self.rng.gen_bool(0.4) {
            let by = *["terraform", "cloudformation", "manual"]
                .choose(&mut self.rng)
                .expect("by");
            tags.push(tag("managed-by", by.to_string()));
        }
        tags
    }

    /// The description: a service's own, or one of the ways people write them.
    pub(super) fn description(
        &mut self,
        ident: &Identity,
        owner_value: &str,
        owner_email: &str,
    ) -> Option<String> {
        if let Some(d) = ident.service_description.clone() {
            return Some(d);
        }
        let team_name = TEAMS[ident.team].0;
        let app = ident.app.unwrap_or(team_name);
        let env = ident.env.unwrap_or("prod");
        match self.rng.gen_range(0..10) {
            0 => None,
            1 => Some(String::new()),
            2 => Some(format!("Owner: {owner_email}")),
            3 => Some(format!("Managed by @{team_name}-team")),
            4 => Some(format!(
                "{} for {team_name}/{app} ({env}). contact {owner_email}",
                ident.human
            )),
            5 => Some(format!("{} used by the {app} service", ident.human)),
            6 => Some(format!("DO NOT DELETE - used by {app} in {env}")),
            7 => Some(format!(
                "{}. Owner: {}. Rotated by the {team_name} team.",
                ident.human, owner_value
            )),
            _ => Some(ident.human.clone()),
        }
    }

    /// When the secret was made: old enough for the history its scenario needs.
    pub(super) fn created(&mut self, scenario: Scenario, interval: i64) -> EpochMs {
        let now = self.now;
        let created = self.days_ago(45, 900);
        match scenario {
            Scenario::Overdue
            | Scenario::RotationFailed
            | Scenario::RotationFlaky
            | Scenario::LambdaMissing => created.min(now - interval * DAY - 75 * DAY),
            Scenario::Unused => created.min(now - 120 * DAY),
            _ => created,
        }
    }

    /// One or two replicas in other regions; for ReplicaFailed the first failed.
    pub(super) fn replicas(&mut self, scenario: Scenario, kms_default: bool) -> Vec<Replica> {
        let mut replication = Vec::new();
        if !matches!(scenario, Scenario::Replicated | Scenario::ReplicaFailed) {
            return replication;
        }
        let account = self.account.clone();
        let count = self.rng.gen_range(1..=2);
        let mut regions: Vec<&str> = OTHER_REGIONS
            .iter()
            .copied()
            .filter(|r| *r != self.region)
            .collect();
        regions.shuffle(&mut self.rng);
        for (k, r) in regions.into_iter().take(count).enumerate() {
            let failed = scenario == Scenario::ReplicaFailed && k == 0;
            let kms = if kms_default {
                "alias/aws/secretsmanager".to_string()
            } else {
                format!("arn:aws:kms:{r}:{account}:key/{}", uuid_from(&mut self.rng))
            };
            let status_message = if failed {
                Some(
                    REPLICA_FAILURES
                        .choose(&mut self.rng)
                        .expect("failures")
                        .to_string(),
                )
            } else {
                Some("Replication succeeded".to_string())
            };
            let last_accessed = if !failed && self.rng.gen_bool(0.5) {
                Some(self.days_ago(0, 20))
            } else {
                None
            };
            replication.push(Replica {
                region: r.to_string(),
                kms_key_id: Some(kms),
                status: if failed {
                    ReplicaStatus::Failed
                } else {
                    ReplicaStatus::InSync
                },
                status_message,
                last_accessed,
            });
        }
        replication
    }

    /// Versions: rotations leave one version per interval; manual updates
    /// are spread out. AWSCURRENT on the newest, AWSPREVIOUS before it, now
    /// and then custom labels, and a failed rotation's AWSPENDING version.
    /// Also the custom labels used.
    pub(super) fn versions(
        &mut self,
        s: &Shape<'_>,
        rot: &RotationState,
    ) -> (Vec<VersionData>, Vec<String>) {
        let mut versions: Vec<VersionData> = Vec::new();
        for t in self.version_times(s, rot) {
            versions.push(VersionData {
                id: uuid_from(&mut self.rng),
                stages: Vec::new(),
                created: t,
                last_accessed: None,
            });
        }
        let nv = versions.len();
        versions[nv - 1].stages.push(AWSCURRENT.to_string());
        if nv >= 2 {
            versions[nv - 2].stages.push(AWSPREVIOUS.to_string());
        }
        let custom_labels = self.custom_labels(&mut versions);
        if let Some(at) = rot.stuck_pending_at {
            versions.push(VersionData {
                id: uuid_from(&mut self.rng),
                stages: vec![AWSPENDING.to_string()],
                created: at,
                last_accessed: None,
            });
        }
        (versions, custom_labels)
    }

    /// When each version was made, oldest first.
    pub(super) fn version_times(&mut self, s: &Shape<'_>, rot: &RotationState) -> Vec<EpochMs> {
        let (now, created, scenario) = (self.now, s.created, s.scenario);
        let count = match self.rng.gen_range(0..10) {
            0..=2 => 2,
            3..=6 => self.rng.gen_range(3..=4),
            _ => self.rng.gen_range(5..=8),
        };
        let newest = rot.last_rotated.unwrap_or_else(|| {
            let hi = rot.deleted.unwrap_or(now) - HOUR;
            self.between(created + HOUR, hi.max(created + 2 * HOUR))
        });
        let manual = rot.last_rotated.is_none() || scenario == Scenario::NeverRotated;
        let mut times = vec![newest];
        if manual {
            let k = if scenario == Scenario::NeverRotated {
                self.rng.gen_range(1..=4)
            } else {
                count
            };
            for _ in 1..k {
                let t = self.between(created, newest);
                times.push(t);
            }
            times.push(created);
        } else {
            let mut t = newest;
            for _ in 1..count {
                t -= s.interval * DAY + self.between(-HOUR, HOUR);
                if t <= created {
                    break;
                }
                times.push(t);
            }
            if times.len() < count {
                times.push(created);
            }
        }
        times.sort_unstable();
        times.dedup();
        times
    }

    /// Now and then custom staging labels (blue/green, a migration, a
    /// rollback mark) on a secret of three versions or more.
    pub(super) fn custom_labels(&mut self, versions: &mut [VersionData]) -> Vec<String> {
        let nv = versions.len();
        let mut custom_labels = Vec::new();
        if nv >= 3 && self.rng.gen_bool(0.1) {
            match self.rng.gen_range(0..3) {
                0 => {
                    versions[nv - 1].stages.push("blue".to_string());
                    versions[nv - 2].stages.push("green".to_string());
                    custom_labels.extend(["blue".to_string(), "green".to_string()]);
                }
                1 => {
                    versions[0].stages.push("v2-migration".to_string());
                    custom_labels.push("v2-migration".to_string());
                }
                _ => {
                    versions[nv - 2].stages.push("rollback-safe".to_string());
                    custom_labels.push("rollback-safe".to_string());
                }
            }
        }
        custom_labels
    }

    /// When the secret was last read (unused ones long ago or never), set
    /// on AWSCURRENT's version too (and AWSPREVIOUS's a day after it was made).
    pub(super) fn access(
        &mut self,
        s: &Shape<'_>,
        rot: &RotationState,
        versions: &mut [VersionData],
    ) -> Option<EpochMs> {
        let (now, created, scenario) = (self.now, s.created, s.scenario);
        let last_accessed = if scenario == Scenario::Unused {
            if self.rng.gen_bool(0.4) {
                None
            } else {
                Some(self.days_ago(90, 400).max(created))
            }
        } else if let Some(d) = rot.deleted {
            if rot.accessed_after_deletion {
                Some(self.between(d + DAY + HOUR, now))
            } else {
                Some(self.between(created.min(d - DAY), d - DAY))
            }
        } else if self.rng.gen_bool(0.7) {
            Some(self.between(now - 3 * DAY, now))
        } else {
            Some(self.days_ago(3, 20))
        };
        if let Some(cur) = versions
            .iter_mut()
            .rev()
            .find(|v| v.stages.iter().any(|s| s == AWSCURRENT))
        {
            cur.last_accessed = last_accessed;
        }
        if let Some(prev) = versions
            .iter_mut()
            .find(|v| v.stages.iter().any(|s| s == AWSPREVIOUS))
        {
            if last_accessed.is_some() && scenario != Scenario::Unused {
                prev.last_accessed = Some(prev.created + DAY.min(now - prev.created));
            }
        }
        last_accessed
    }

    /// The newest version's time, or now and then a later change (and never
    /// before the deletion).
    pub(super) fn last_changed(
        &mut self,
        versions: &[VersionData],
        created: EpochMs,
        deleted: Option<EpochMs>,
    ) -> EpochMs {
        let newest_version = versions.iter().map(|v| v.created).max().unwrap_or(created);
        let mut last_changed = newest_version;
        if self.rng.gen_bool(0.3) {
            let hi = deleted.unwrap_or(self.now);
            last_changed = self.between(newest_version, hi.max(newest_version + 1));
        }
        if let Some(d) = deleted {
            last_changed = last_changed.max(d);
        }
        last_changed
    }

    /// `policy` (or a new one) with an explicit Deny of `secretsmanager:*`
    /// for the rotation Lambda's role, as a lock-down that forgot it.
    pub(super) fn denying_policy(&self, lambda: Option<&str>, policy: Option<String>) -> String {
        let name = lambda.map(crate::arn::function_name).unwrap_or_default();
        let team = name.split('-').nth(2).unwrap_or("default");
        let role = crate::infra::names::role_arn(
            &self.account,
            &crate::infra::names::rotation_role_name(team, false),
        );
        let deny = serde_json::json!({
            "Sid": "DenyOutsideTheApp",
            "Effect": "Deny",
            "Principal": {"AWS": role},
            "Action": "secretsmanager:*",
            "Resource": "*"
        });
        let mut doc: serde_json::Value = policy
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_else(|| serde_json::json!({"Version": "2012-10-17", "Statement": []}));
        if let Some(list) = doc.get_mut("Statement").and_then(|s| s.as_array_mut()) {
            list.push(deny);
        }
        doc.to_string()
    }

    /// Now and then a resource policy letting the app's task role read it.
    pub(super) fn resource_policy(&mut self, app: Option<&str>, team_name: &str) -> Option<String> {
        if !self.rng.gen_bool(0.1) {
            return None;
        }
        let app = app.unwrap_or("app");
        let account = &self.account;
        Some(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "AllowServiceRoleRead",
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{account}:role/{team_name}-{app}-task")},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*"
                }]
            })
            .to_string(),
        )
    }
}

/// The key a KMS failure cause's secrets are encrypted with.
fn special_key(b: LambdaBehaviour) -> Option<crate::infra::names::SpecialKey> {
    use crate::infra::names::SpecialKey;
    match b {
        LambdaBehaviour::NoKmsAccess => Some(SpecialKey::KeyAdminOnly),
        LambdaBehaviour::KeyDisabled => Some(SpecialKey::Disabled),
        LambdaBehaviour::KeyPending => Some(SpecialKey::PendingDeletion),
        _ => None,
    }
}

/// What one secret's aspects are drawn for.
pub(super) struct Shape<'a> {
    pub(super) scenario: Scenario,
    /// Rotation interval, days.
    pub(super) interval: i64,
    pub(super) created: EpochMs,
    /// `TEAM-ENGINE`, the end of its Lambda's name.
    pub(super) lambda_suffix: &'a str,
}

/// The hostile seed's payloads in its description and a tag (rendered
/// escaped, never run, by any reader).
pub(super) fn hostile_payloads(
    h: usize,
    owner_email: &str,
    description: &mut Option<String>,
    tags: &mut Vec<Tag>,
) {
    let payload = HOSTILE_PAYLOADS[h % 3];
    *description = Some(format!("Owner: {owner_email} {payload}"));
    let tag_payload = HOSTILE_PAYLOADS[(h + 1) % 3];
    let key = if h.is_multiple_of(2) { "team" } else { "owner" };
    tags.retain(|t| t.key != key);
    tags.push(Tag {
        key: key.to_string(),
        value: tag_payload.to_string(),
    });
    if h % 3 == 2 {
        tags.push(Tag {
            key: "notes".to_string(),
            value: HOSTILE_PAYLOADS[h % 3].to_string(),
        });
    }
}
