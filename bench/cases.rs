// The searches the benchmarks time (bench/query.rs and bench/memory.rs
// include this file): bench/RESULTS.md's tables are by these labels.

/// (label, q, path, sort)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("(empty: everything)", "", "", ""),
    ("`payments`", "payments", "", ""),
    ("`name:prod/*`", "name:prod/*", "", ""),
    ("`tag:owner=alice*`", "tag:owner=alice*", "", ""),
    ("`tag:env`", "tag:env", "", ""),
    ("`-tag:owner`", "-tag:owner", "", ""),
    ("`region:eu-west-1`", "region:eu-west-1", "", ""),
    ("`kms:default`", "kms:default", "", ""),
    ("`rotation:on`", "rotation:on", "", ""),
    ("`deleted:yes`", "deleted:yes", "", ""),
    ("`service:rds`", "service:rds", "", ""),
    (
        "`tag:team=payments OR tag:team=checkout`",
        "tag:team=payments OR tag:team=checkout",
        "",
        "",
    ),
    (
        "`tag:team=payments OR tag:team=billing`",
        "tag:team=payments OR tag:team=billing",
        "",
        "",
    ),
    (
        "`name:prod/* rotation:on -tag:owner`",
        "name:prod/* rotation:on -tag:owner",
        "",
        "",
    ),
    ("(empty), path `prod/payments`", "", "prod/payments", ""),
    ("(empty), sort `-last_rotated`", "", "", "-last_rotated"),
    (
        "`payments`, sort `-last_rotated`",
        "payments",
        "",
        "-last_rotated",
    ),
];
