//! The rules that read CloudTrail's GetSecretValue events ([`Secret::reads`]):
//! without them they are not evaluated (see [`not_evaluated`]), never "ok".

use super::*;
use crate::domain::reads::{ReadError, Reader};

/// A principal as a detail names it: the role or user name and its account.
fn who(r: &Reader) -> String {
    match &r.principal.account {
        Some(a) => format!("{} ({a})", r.principal.name()),
        None => r.principal.name().to_string(),
    }
}

/// Up to three names, then "and N more".
fn names<'a>(readers: impl Iterator<Item = &'a Reader>) -> String {
    let all: Vec<String> = readers.map(who).collect();
    let mut out = all.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > 3 {
        out.push_str(&format!(" and {} more", all.len() - 3));
    }
    out
}

/// Reads that failed (or, were the secret restored and deleted again,
/// succeeded) at or after the secret was scheduled for deletion: something
/// still depends on it. On AWS such reads fail: "You can't perform this
/// operation on the secret because it was marked for deletion."
pub(super) fn accessed_after_deletion(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    let d = s.deleted?;
    let reads = s.reads.as_ref()?;
    let failed = reads.failed_since(d);
    let late_ok: Vec<&Reader> = reads
        .readers
        .iter()
        .filter(|r| r.last_ok.is_some_and(|t| t >= d))
        .collect();
    if failed.is_empty() && late_ok.is_empty() {
        return None;
    }
    let first = failed
        .iter()
        .flat_map(|(_, f)| f.iter().map(|f| f.first.max(d)))
        .chain(late_ok.iter().filter_map(|r| r.last_ok))
        .min();
    Some(Hit {
        since: first,
        detail: i.text(|| {
            let count: u32 = failed
                .iter()
                .flat_map(|(_, f)| f.iter())
                .filter(|f| f.first >= d)
                .map(|f| f.count)
                .sum();
            let marked = failed
                .iter()
                .any(|(_, f)| f.iter().any(|f| f.error == ReadError::MarkedForDeletion));
            let mut text = format!(
                "{} tried to read it after it was scheduled for deletion on {}",
                names(
                    failed
                        .iter()
                        .map(|(r, _)| *r)
                        .chain(late_ok.iter().copied())
                ),
                When(d)
            );
            if count > 0 {
                text.push_str(&format!(" ({count} failed reads"));
                if marked {
                    text.push_str(", \"marked for deletion\"");
                }
                text.push(')');
            }
            text.push_str(": it will break for good when the recovery window ends.");
            text
        }),
    })
}

/// A principal still reads AWSPREVIOUS days after the last rotation: at the
/// next rotation AWSPREVIOUS moves to the version it does not know.
pub(super) fn read_previous_after_rotation(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if s.deleted.is_some() {
        return None;
    }
    let rotated = s.last_rotated?;
    let reads = s.reads.as_ref()?;
    let after = Timestamp::new(
        rotated
            .secs()
            .saturating_add(i.cfg.previous_read_days.saturating_mul(DAY)),
    );
    let late: Vec<&Reader> = reads
        .readers
        .iter()
        .filter(|r| r.previous_reads().is_some_and(|p| p.last > after))
        .collect();
    if late.is_empty() {
        return None;
    }
    Some(Hit {
        since: Some(after),
        detail: i.text(|| {
            let last = late
                .iter()
                .filter_map(|r| r.previous_reads().map(|p| p.last))
                .max()
                .unwrap_or(after);
            format!(
                "{} still read AWSPREVIOUS more than {} days after the rotation on {} (last on {}): they will break at the next rotation, when AWSPREVIOUS moves on.",
                names(late.into_iter()),
                i.cfg.previous_read_days,
                When(rotated),
                When(last)
            )
        }),
    })
}

/// On a high-value secret, a principal whose first successful read is
/// within the last `new_reader_days`, and not seen before in a window that
/// was read back at least as far again.
pub(super) fn new_reader(i: &Input<'_>) -> Option<Hit> {
    let s = i.secret;
    if !s.high_value {
        return None;
    }
    let reads = s.reads.as_ref()?;
    let window = i.cfg.new_reader_days.saturating_mul(DAY);
    let start = i.now.secs().saturating_sub(window);
    // The previous window must have been read: else "new" means "not read yet".
    if reads.covered_since().secs() > start.saturating_sub(window) {
        return None;
    }
    let new: Vec<&Reader> = reads
        .readers
        .iter()
        .filter(|r| r.first_ok.is_some_and(|t| t.secs() >= start) && r.first.secs() >= start)
        .collect();
    let first = new.iter().filter_map(|r| r.first_ok).min()?;
    Some(Hit {
        since: Some(first),
        detail: i.text(|| {
            format!(
                "{} read it for the first time on {}; not seen in the {} days before.",
                names(new.into_iter()),
                When(first),
                reads
                    .covered_since()
                    .secs()
                    .abs_diff(start)
                    .div_ceil(DAY as u64)
            )
        }),
    })
}

/// The rules that need CloudTrail's reads, when the secret has none looked
/// up and the rule would apply: they are not evaluated, not passed.
pub fn not_evaluated(s: &Secret, cfg: &HealthConfig) -> Vec<RuleId> {
    if s.reads.is_some() {
        return Vec::new();
    }
    let applies = [
        (RuleId::AccessedAfterDeletion, s.deleted.is_some()),
        (
            RuleId::ReadPreviousAfterRotation,
            s.deleted.is_none() && s.last_rotated.is_some(),
        ),
        (RuleId::NewReader, s.high_value),
    ];
    applies
        .into_iter()
        .filter(|(id, applies)| *applies && cfg.is_enabled(*id))
        .map(|(id, _)| id)
        .collect()
}
