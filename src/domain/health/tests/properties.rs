//! Date formatting against the shared formatter, and properties of the engine.

use super::*;

#[test]
fn dates_match_the_shared_formatter() {
    for t in [
        0,
        1_795_000_000,
        951_782_400,
        -1,
        -86_400 * 365,
        4_102_444_799,
    ] {
        assert_eq!(
            When(Timestamp::new(t)).to_string(),
            Timestamp::new(t).display(),
            "{t}"
        );
        assert_eq!(
            Day(Timestamp::new(t)).to_string(),
            Timestamp::new(t).date(),
            "{t}"
        );
    }
}

fn opt_ts() -> impl Strategy<Value = Option<Timestamp>> {
    prop_oneof![
        Just(None),
        (NOW.secs() - 3 * 365 * DAY..NOW.secs() + 365 * DAY).prop_map(|t| Some(Timestamp::new(t))),
        any::<i64>().prop_map(|t| Some(Timestamp::new(t))),
    ]
}

prop_compose! {
    fn any_secret()(
        dates in proptest::collection::vec(opt_ts(), 7),
        flags in proptest::collection::vec(any::<bool>(), 6),
        days in proptest::option::of(-5i64..2000),
        duration in proptest::option::of("[0-9]{0,3}[hm]?[0-9]{0,2}m?"),
        expr in proptest::option::of(prop_oneof![
            "rate\\([0-9]{1,5} (days|hours|minutes)\\)",
            Just("cron(0 0 * * ? *)".to_string()),
            ".{0,12}",
        ]),
        pending_created in opt_ts(),
        sup in proptest::option::of("[a-z*, -]{0,30}(: [a-z ]{0,10})?"),
    ) -> Secret {
        let mut s = secret("p/q");
        s.created = dates[0];
        s.last_changed = dates[1];
        s.last_rotated = dates[2];
        s.last_accessed = dates[3];
        s.next_rotation = dates[4];
        s.deleted = dates[5];
        s.rotation_enabled = flags[0];
        if flags[1] {
            s.kms_key_id = Some(Arc::from("arn:aws:kms:us-east-1:1:key/k"));
        }
        if flags[2] {
            s.rotation_lambda_arn = Some(Arc::from("arn:aws:lambda:us-east-1:1:function:f"));
        }
        if flags[3] {
            s.description = Some("d".into());
        }
        if flags[4] {
            s.rotation_rules = Some(Arc::new(RotationRules {
                automatically_after_days: days,
                duration,
                schedule_expression: expr,
            }));
        }
        if flags[5] {
            pending(&mut s, pending_created);
        }
        if let Some(v) = sup {
            tag(&mut s, "secretscope:suppress", &v);
        }
        s
    }
}

fn any_replicas() -> impl Strategy<Value = Option<Vec<ReplicaState>>> {
    proptest::option::of(proptest::collection::vec(
        (
            prop_oneof![Just("InSync"), Just("Failed"), Just("InProgress"), Just("")],
            proptest::option::of(".{0,10}"),
        )
            .prop_map(|(st, m)| replica("eu-west-1", st, m.as_deref())),
        0..3,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn evaluate_never_panics_and_sorts(
        s in any_secret(),
        replicas in any_replicas(),
        now in prop_oneof![
            (NOW.secs() - DAY..NOW.secs() + DAY).prop_map(Timestamp::new),
            any::<i64>().prop_map(Timestamp::new),
        ],
        grace in prop_oneof![Just(3600i64), any::<i64>()],
        days in prop_oneof![Just(90i64), any::<i64>()],
    ) {
        let mut c = cfg();
        c.pending_grace_secs = grace;
        c.not_rotated_days = days;
        c.unused_days = days;
        c.max_interval_days = days;
        c.replica_grace_secs = grace;
        let f = evaluate(&s, replicas.as_deref(), &c, now);
        for w in f.windows(2) {
            prop_assert_ne!(order(&w[0], &w[1]), std::cmp::Ordering::Greater);
            prop_assert_ne!(w[0].rule, w[1].rule);
        }
        for x in &f {
            prop_assert!(!x.detail.is_empty());
            prop_assert_eq!(x.severity, info(x.rule).severity);
            if let Some(r) = &x.suppressed {
                prop_assert!(!r.trim().is_empty());
            }
        }
        prop_assert_eq!(
            worst(&f),
            f.iter().filter(|x| x.suppressed.is_none()).map(|x| x.severity).max()
        );
        if replicas.is_none() {
            prop_assert!(f.iter().all(|x| x.rule != RuleId::ReplicaFailed));
        }
        // The summary is the same evaluation without the words.
        let sum = summarize(&s, replicas.as_deref(), &c, now);
        prop_assert_eq!(sum.fired, f.iter().map(|x| x.rule).collect::<RuleSet>());
        prop_assert_eq!(
            sum.suppressed,
            f.iter().filter(|x| !x.is_active()).map(|x| x.rule).collect::<RuleSet>()
        );
        prop_assert_eq!(sum.worst, worst(&f));
        if s.deleted.is_some() {
            prop_assert!(f.iter().all(|x| !matches!(
                x.rule,
                RuleId::RotationFailed | RuleId::RotationOverdue | RuleId::Unused
                    | RuleId::NotRotatedRecently | RuleId::RotationDisabled
            )));
        }
        // Switching a rule off removes exactly that rule's finding.
        if let Some(first) = f.first() {
            let mut off = c.clone();
            off.disabled.insert(first.rule);
            let g = evaluate(&s, replicas.as_deref(), &off, now);
            prop_assert!(g.iter().all(|x| x.rule != first.rule));
        }
    }

    #[test]
    fn span_words_match_the_shared_ones(secs in prop_oneof![-10i64..300_000, any::<i64>()]) {
        prop_assert_eq!(Span(secs).to_string(), span(secs));
    }

    #[test]
    fn parsers_never_panic(s in ".{0,20}") {
        let _ = parse_duration(&s);
        let _ = parse_rate(&s);
        let _ = parse_suppression(&s);
    }

    #[test]
    fn day_format_matches_chrono(t in -62_135_596_800i64..253_402_300_799) {
        prop_assert_eq!(When(Timestamp::new(t)).to_string(), Timestamp::new(t).display());
    }
}
