#!/usr/bin/env python3
"""Sync benchmark for secretscope (issue: foundation).

Measures, in one run, against the demo endpoint (`secretscope local-endpoint`):
  1. the list pass over N seeded secrets (default 10,000): secretscope's
     `sync --json` (all ListSecrets pages through aws-sdk-secretsmanager into a
     snapshot) against boto3's ListSecrets paginator on the same endpoint;
  2. the time until the background version fetch is complete at the default
     rate budget (`sync --json --versions`);
  3. peak RSS of `serve` holding 100,000 secrets (after the first list pass,
     and after every version date is fetched).

Usage: python3 bench/sync_bench.py [--bin target/release/secretscope] [--secrets 10000]
       [--rss-secrets 100000] [--runs 5] [--skip-versions] [--skip-rss]
Prints a Markdown section to stdout; paste it into bench/RESULTS.md.
"""
import argparse
import json
import os
import re
import platform
import statistics
import subprocess
import sys
import time

from benchlib import Dashboard, Proc, demo_client, free_port, wait_port


def endpoint(bin_, n):
    port = free_port()
    proc = Proc([bin_, "local-endpoint", "--bind", f"127.0.0.1:{port}", "--seed-secrets", str(n)])
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}"


def secretscope_sync(bin_, url, versions=False, unlimited=False):
    args = [bin_, "sync", "--endpoint-url", url, "--json"] + (["--versions"] if versions else [])
    env = {**os.environ, "SECRETSCOPE_LOG": "warn"}
    if unlimited:
        env["SECRETSCOPE_SYNC_LIST_RATE_PER_SEC"] = "0"
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"sync failed: {out.stdout}\n{out.stderr}")
    return json.loads(out.stdout), wall


def boto3_list(url):
    client = demo_client(url)
    t0 = time.perf_counter()
    count = 0
    for page in client.get_paginator("list_secrets").paginate(
        IncludePlannedDeletion=True, PaginationConfig={"PageSize": 100}
    ):
        count += len(page["SecretList"])
    return count, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/secretscope")
    ap.add_argument("--secrets", type=int, default=10_000)
    ap.add_argument("--rss-secrets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-versions", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--skip-list", action="store_true")
    ap.add_argument(
        "--smaps-out",
        help="write serve's resident memory per mapping (from /proc/PID/smaps) to this file at the end",
    )
    a = ap.parse_args()

    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}; binary `{a.bin}`.",
        "",
    ]

    # 1. List pass, secretscope vs boto3, alternating runs on the same endpoint.
    if not a.skip_list:
        lines += list_and_versions(a)
    if not a.skip_rss:
        lines += serve_rss(a)
    print("\n".join(lines))


def list_and_versions(a):
    lines = []
    ep, url = endpoint(a.bin, a.secrets)
    try:
        ss_list, ss_wall, ss_free, b3 = [], [], [], []
        n_ss = n_b3 = None
        secretscope_sync(a.bin, url)  # warm-up both (endpoint caches its sort order)
        boto3_list(url)
        for _ in range(a.runs):
            summary, wall = secretscope_sync(a.bin, url)
            ss_list.append(summary["list_duration_ms"] / 1000)
            ss_wall.append(wall)
            n_ss = summary["secrets"]
            free, _ = secretscope_sync(a.bin, url, unlimited=True)
            ss_free.append(free["list_duration_ms"] / 1000)
            n_b3, t = boto3_list(url)
            b3.append(t)
        assert n_ss == n_b3 == a.secrets, (n_ss, n_b3)
        med = statistics.median
        lines += [
            f"### List pass over {a.secrets:,} secrets ({a.secrets // 100} pages), {a.runs} runs each, medians",
            "",
            "| client | median | min | max |",
            "| --- | --- | --- | --- |",
            f"| secretscope list pass, default budget (50 ListSecrets/s) | {med(ss_list)*1000:.0f} ms | {min(ss_list)*1000:.0f} ms | {max(ss_list)*1000:.0f} ms |",
            f"| secretscope list pass, budget lifted | {med(ss_free)*1000:.0f} ms | {min(ss_free)*1000:.0f} ms | {max(ss_free)*1000:.0f} ms |",
            f"| secretscope `sync --json`, whole process | {med(ss_wall)*1000:.0f} ms | {min(ss_wall)*1000:.0f} ms | {max(ss_wall)*1000:.0f} ms |",
            f"| boto3 `list_secrets` paginator | {med(b3)*1000:.0f} ms | {min(b3)*1000:.0f} ms | {max(b3)*1000:.0f} ms |",
            "",
            f"Ratio boto3 / secretscope list pass: **{med(b3)/med(ss_list):.2f}×** at the default budget, "
            f"**{med(b3)/med(ss_free):.2f}×** with the budget lifted "
            f"(whole secretscope process at the default budget: {med(b3)/med(ss_wall):.2f}×).",
            "",
        ]

        # 2. Version fetch at the default rate budget.
        if not a.skip_versions:
            summary, wall = secretscope_sync(a.bin, url, versions=True)
            v = summary["versions"]
            lines += [
                f"### Version pass over {a.secrets:,} secrets at the default budget (25 calls/s, 8 in flight)",
                "",
                f"ListSecretVersionIds for {v['fetched']:,} secrets ({v['failed']} failed), {v['api_calls']:,} calls: "
                f"**{v['duration_ms']/1000:.1f} s** until complete ({v['api_calls']/(v['duration_ms']/1000):.1f} calls/s); "
                f"whole command {wall:.1f} s.",
                "",
            ]
    finally:
        ep.stop()

    return lines


def write_smaps(pid, out):
    """Resident kB per mapped file (and `[anon]`, `[heap]`, ...), largest first."""
    rss, name = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = head[5] if len(head) > 5 else "[anon]"
                name = f"{name} ({head[1]})"
            elif head[0] == "Rss:":
                rss[name] = rss.get(name, 0) + int(head[1])
    with open(out, "w") as f:
        for name, kb in sorted(rss.items(), key=lambda x: -x[1]):
            if kb:
                f.write(f"{kb:>9} kB  {name}\n")


def serve_rss(a):
    """Peak RSS of `serve` holding the large inventory (endpoint in its own process)."""
    lines = []
    if True:
        ep, url = endpoint(a.bin, a.rss_secrets)
        env = {
            **os.environ,
            "SECRETSCOPE_LOG": "warn",
            # Fetch every version date quickly, so the snapshot is as full as it gets.
            "SECRETSCOPE_SYNC_VERSION_RATE_PER_SEC": "0",
            "SECRETSCOPE_SYNC_VERSION_CONCURRENCY": "16",
        }
        serve = Dashboard(a.bin, ["--endpoint-url", url], env=env)
        try:
            ready_s = serve.ready()
            hwm_ready = serve.status("VmHWM")
            anon_ready, file_ready = serve.status("RssAnon"), serve.status("RssFile")
            versions_s = serve.wait_versions()
            for _ in range(20):  # a few list requests on the full snapshot
                serve.page("/secrets?q=prod&page=3", timeout=30)
            hwm_full = serve.status("VmHWM")
            rss_now = serve.status("VmRSS")
            anon_now, file_now = serve.status("RssAnon"), serve.status("RssFile")
            if a.smaps_out:
                write_smaps(serve.proc.p.pid, a.smaps_out)
        finally:
            serve.stop()
            ep.stop()
        lines += [
            f"### `serve` holding {a.rss_secrets:,} secrets",
            "",
            f"First list pass ready after {ready_s:.1f} s: peak RSS **{hwm_ready/1024:.0f} MB** "
            f"(resident then: {anon_ready/1024:.0f} MB anonymous, {file_ready/1024:.0f} MB file-backed).",
            f"After every version date was fetched ({versions_s:.0f} s, rate budget lifted) and 20 list requests: "
            f"peak RSS **{hwm_full/1024:.0f} MB**, current {rss_now/1024:.0f} MB "
            f"({anon_now/1024:.0f} MB anonymous, {file_now/1024:.0f} MB file-backed; budget: under 150 MB).",
            "",
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
