//! The names and ids of the simulated infrastructure: pure functions of
//! (account, region, what), so every run, every tenant and every reader
//! (the seed, the services, the rotation verdict) agree without storing
//! them, and no draw of the seed's generator is spent on them.

/// FNV-1a, 64 bits: stable across platforms and runs.
pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// An EC2 id of the 17-hex-digit shape (`vpc-0…`), from `what` in the
/// account and region.
pub fn ec2_id(prefix: &str, account: &str, region: &str, what: &str) -> String {
    format!(
        "{prefix}-0{:016x}",
        fnv(&format!("{account}/{region}/{what}"))
    )
}

/// A version-4-shaped UUID from `seed`.
pub(crate) fn uuid(seed: &str) -> String {
    let a = fnv(seed);
    let b = fnv(&format!("{seed}#2"));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// Where an `otherregion` rotation Lambda lives: a region that is not the
/// secret's.
pub fn other_region(region: &str) -> &'static str {
    if region == "us-west-2" {
        "us-east-1"
    } else {
        "us-west-2"
    }
}

/// The name of a rotation Lambda's execution role: one per team
/// (`SecretsManagerRotation-payments`), and for a `failfinish` Lambda its
/// `-nostage` sibling, which lacks `secretsmanager:UpdateSecretVersionStage`.
pub fn rotation_role_name(team: &str, nostage: bool) -> String {
    if nostage {
        format!("SecretsManagerRotation-{team}-nostage")
    } else {
        format!("SecretsManagerRotation-{team}")
    }
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// The one principal the `nokmsaccess` key's policy names.
pub const KEY_ADMIN_ROLE: &str = "KeyAdmin";
/// A role that holds a grant on the `nokmsaccess` key (not the Lambda's).
pub const BACKUP_ROLE: &str = "backup-restore";

/// The KMS keys every account × region has besides the seed's own pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SpecialKey {
    /// `aws/secretsmanager`, the AWS managed key (KeyManager AWS).
    AwsManaged,
    /// A customer managed key whose policy names only `role/KeyAdmin` (no
    /// delegation to the account root) and that grants the rotation roles
    /// nothing: `nokmsaccess` secrets use it.
    KeyAdminOnly,
    /// Disabled: `keydisabled` secrets use it.
    Disabled,
    /// Pending deletion: `keypending` secrets use it.
    PendingDeletion,
}

impl SpecialKey {
    pub const ALL: [SpecialKey; 4] = [
        SpecialKey::AwsManaged,
        SpecialKey::KeyAdminOnly,
        SpecialKey::Disabled,
        SpecialKey::PendingDeletion,
    ];

    /// Its alias (without `alias/`).
    pub fn alias(self) -> &'static str {
        match self {
            SpecialKey::AwsManaged => "aws/secretsmanager",
            SpecialKey::KeyAdminOnly => "rotation-keyadmin-only",
            SpecialKey::Disabled => "rotation-disabled",
            SpecialKey::PendingDeletion => "rotation-pending-deletion",
        }
    }

    /// Its key id in `account` × `region`.
    pub fn key_id(self, account: &str, region: &str) -> String {
        uuid(&format!("{account}/{region}/key/{}", self.alias()))
    }

    pub fn arn(self, account: &str, region: &str) -> String {
        format!(
            "arn:aws:kms:{region}:{account}:key/{}",
            self.key_id(account, region)
        )
    }
}

/// The parts of `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub(crate) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub(crate) fn parse_arn(arn: &str) -> Option<Arn<'_>> {
    let mut p = arn.splitn(6, ':');
    let (head, _partition, service, region, account, resource) = (
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
    );
    (head == "arn").then_some(Arn {
        service,
        region,
        account,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        let v = ec2_id("vpc", "123456789012", "us-east-1", "vpc/app");
        assert_eq!(v.len(), "vpc-".len() + 17);
        assert_eq!(v, ec2_id("vpc", "123456789012", "us-east-1", "vpc/app"));
        assert_ne!(v, ec2_id("vpc", "123456789012", "eu-west-1", "vpc/app"));
        let k = SpecialKey::Disabled.key_id("123456789012", "us-east-1");
        assert_eq!(k.len(), 36);
        assert_eq!(&k[14..15], "4");
        assert!(k.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
        let ids: std::collections::HashSet<_> = SpecialKey::ALL
            .iter()
            .map(|s| s.key_id("123456789012", "us-east-1"))
            .collect();
        assert_eq!(ids.len(), 4);
        assert_eq!(other_region("us-east-1"), "us-west-2");
        assert_eq!(other_region("us-west-2"), "us-east-1");
        let a = parse_arn("arn:aws:lambda:us-west-2:123456789012:function:f:1").unwrap();
        assert_eq!(
            (a.service, a.region, a.account, a.resource),
            ("lambda", "us-west-2", "123456789012", "function:f:1")
        );
        assert!(parse_arn("nope").is_none());
    }
}
