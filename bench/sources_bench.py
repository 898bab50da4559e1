"""Sync of many sources at once (issue 9).

Starts `secretscope local-endpoint --accounts N` (N accounts with SECRETS
secrets each; all but the first reached by assuming a role through the
endpoint's STS) with LATENCY ms added to every call, writes the
[[sources]] that read them to a config file, and runs `secretscope sync
--json` over all of them. Reports the whole command's wall time against the
sum of the sources' own list-pass times, and each source's call rate
against its budget (sync.list_rate_per_sec). Prints Markdown.

    python3 bench/sources_bench.py --bin target/release/secretscope \
        --accounts 10 --secrets 10000 --latency-ms 50 --runs 3
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

from benchlib import Proc, free_port, wait_port


def sources_toml(accounts, region):
    out = ['[[sources]]', 'name = "base"', f'regions = ["{region}"]', ""]
    for i in range(1, accounts):
        account = f"{100_000_000_000 + i:012d}"
        out += [
            "[[sources]]",
            f'name = "account-{account}"',
            f'role_arn = "arn:aws:iam::{account}:role/secretscope-read"',
            f'regions = ["{region}"]',
            "",
        ]
    return "\n".join(out)


def run_sync(binary, url, config):
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    t0 = time.time()
    res = subprocess.run(
        [binary, "--config", config, "sync", "--json", "--endpoint-url", url, "--region", "us-east-1"],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.time() - t0
    if res.returncode != 0:
        raise SystemExit(f"sync failed ({res.returncode}): {res.stdout}\n{res.stderr}")
    return wall, json.loads(res.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/secretscope")
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--secrets", type=int, default=10_000)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp, Proc(
        [
            a.bin, "local-endpoint", "--bind", f"127.0.0.1:{port}",
            "--accounts", str(a.accounts), "--seed-secrets", str(a.secrets),
            "--latency-ms", str(a.latency_ms),
        ]
    ):
        wait_port(port, timeout=900)
        config = os.path.join(tmp, "secretscope.toml")
        with open(config, "w") as f:
            f.write(sources_toml(a.accounts, "us-east-1"))
        runs = []
        for _ in range(a.runs):
            wall, summary = run_sync(a.bin, url, config)
            per = summary["sources"]
            assert len(per) == a.accounts, per
            assert all(s["ok"] for s in per), per
            assert sum(s["secrets"] for s in per) == a.accounts * a.secrets, per
            runs.append((wall, summary))

    walls = [w for w, _ in runs]
    sums = [sum(s["list_duration_ms"] for s in summary["sources"]) / 1000 for _, summary in runs]
    slowest = [max(s["list_duration_ms"] for s in summary["sources"]) / 1000 for _, summary in runs]
    rates = [
        s["pages"] / (s["list_duration_ms"] / 1000)
        for _, summary in runs
        for s in summary["sources"]
    ]
    med = statistics.median
    print(f"### {a.accounts} sources × {a.secrets:,} secrets, {a.latency_ms} ms added to every call, {a.runs} runs\n")
    print("| measure | median | min | max |")
    print("| --- | --- | --- | --- |")
    for label, xs in [
        ("`sync --json` wall time, whole process", walls),
        ("sum of the sources' own list passes", sums),
        ("slowest source's list pass", slowest),
    ]:
        print(f"| {label} | {med(xs):.2f} s | {min(xs):.2f} s | {max(xs):.2f} s |")
    ratio = [s / w for s, w in zip(sums, walls)]
    print(
        f"\nSum / wall: **{med(ratio):.1f}×** (median; {a.accounts} would be perfect overlap). "
        f"ListSecrets calls per second per source: median {med(rates):.1f}, max {max(rates):.1f} "
        f"(budget: 50/s per source, `sync.list_rate_per_sec`; AWS's quota is per account and region)."
    )


if __name__ == "__main__":
    main()
