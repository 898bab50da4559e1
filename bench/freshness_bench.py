#!/usr/bin/env python3
"""Freshness benchmark for secretscope (issue 25: changes visible in seconds).

Against the demo endpoint (`secretscope local-endpoint --trail-quota 2`, so
LookupEvents keeps AWS's quota of two calls a second), with the calls counted
at the endpoint (`GET /__secretscope/calls`):

  1. seconds from a change to its showing in the dashboard: N tag changes
     (default 20) made with boto3, staggered over the incremental interval,
     each waited for in `/export/secrets.csv?q=tag:KEY` (the inventory the
     pages read, not a live read of AWS); with the calls each change cost;
  2. AWS calls per hour at S secrets (default 100,000): one list pass
     (ListSecrets pages, counted), and the incremental pass over a quiet
     account (LookupEvents calls per pass, counted over several passes).
     Before: a list pass every 5 minutes (pages x 12). After: the
     incremental pass every 30 s (120 passes) plus one list pass an hour,
     plus the calls per change measured in 1.

Usage: python3 bench/freshness_bench.py [--bin target/release/secretscope]
       [--changes 20] [--secrets 300] [--interval 30] [--hour-secrets 100000]
       [--sample-interval 5] [--sample-secs 60] [--skip-hour]
Prints a Markdown section to stdout; paste it into bench/RESULTS.md.
"""
import argparse
import csv
import io
import json
import os
import platform
import statistics
import time
import urllib.request
import uuid

from benchlib import Dashboard, Proc, demo_client, free_port, wait_port


def endpoint(bin_, n):
    port = free_port()
    proc = Proc(
        [bin_, "local-endpoint", "--bind", f"127.0.0.1:{port}", "--seed-secrets", str(n), "--trail-quota", "2"]
    )
    wait_port(port, timeout=900)
    return proc, f"http://127.0.0.1:{port}"


def calls(url):
    with urllib.request.urlopen(f"{url}/__secretscope/calls", timeout=30) as r:
        return json.load(r)


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def plan(url):
    with urllib.request.urlopen(f"{url}/__secretscope/plan", timeout=300) as r:
        return json.load(r)


def dashboard(bin_, url, interval, extra=None):
    env = {
        **os.environ,
        "SECRETSCOPE_LOG": "warn",
        "SECRETSCOPE_INCREMENTAL_INTERVAL_SECS": str(interval),
        # The first version pass is not what is measured: let it finish.
        "SECRETSCOPE_SYNC_VERSION_RATE_PER_SEC": "0",
        **(extra or {}),
    }
    return Dashboard(bin_, ["--endpoint-url", url], env=env)


def shown(d, key):
    """Names of the secrets the dashboard's inventory shows with tag KEY."""
    body = d.page(f"/export/secrets.csv?q=tag:{key}").decode()
    rows = list(csv.reader(io.StringIO(body)))
    return {r[0] for r in rows[1:] if r}


def latency(bin_, n_secrets, changes, interval):
    ep, url = endpoint(bin_, n_secrets)
    with ep, dashboard(bin_, url, interval) as d:
        d.ready(timeout=900)
        d.wait_versions()
        # One interval for the first incremental pass (it reads what the
        # seed put just before the list pass), then the count starts.
        time.sleep(interval + 2)
        picked = [
            p["name"]
            for p in plan(url)
            if not p.get("deleted") and not p.get("hostile") and "," not in p["name"]
        ][:changes]
        key = "fresh" + uuid.uuid4().hex[:8]
        client = demo_client(url)
        before = calls(url)
        stagger = interval / changes * 1.3
        made, seen = {}, {}
        t_start = time.time()
        i = 0
        while len(seen) < len(picked):
            now = time.time()
            if i < len(picked) and now >= t_start + i * stagger:
                name = picked[i]
                made[name] = time.time()
                client.tag_resource(SecretId=name, Tags=[{"Key": key, "Value": "v"}])
                i += 1
            for name in shown(d, key):
                if name in made and name not in seen:
                    seen[name] = time.time() - made[name]
            if now - t_start > 20 * interval + 120:
                raise SystemExit(f"only {len(seen)} of {len(picked)} changes showed")
            time.sleep(0.1)
        used = delta(calls(url), before)
    secs = sorted(seen.values())
    return {
        "secrets": n_secrets,
        "changes": len(secs),
        "median": statistics.median(secs),
        "p90": secs[int(0.9 * (len(secs) - 1))],
        "max": secs[-1],
        "min": secs[0],
        "calls": used,
    }


def hour(bin_, n_secrets, sample_interval, sample_secs):
    ep, url = endpoint(bin_, n_secrets)
    with ep:
        before = calls(url)
        env = {**os.environ, "SECRETSCOPE_LOG": "warn"}
        import subprocess

        t0 = time.time()
        out = subprocess.run(
            [bin_, "sync", "--endpoint-url", url, "--json"], capture_output=True, text=True, env=env
        )
        list_secs = time.time() - t0
        if out.returncode != 0:
            raise SystemExit(f"sync failed: {out.stdout}\n{out.stderr}")
        pages = delta(calls(url), before).get("secretsmanager:ListSecrets", 0)
        with dashboard(bin_, url, sample_interval) as d:
            d.ready(timeout=900)
            d.wait_versions(timeout=3600)
            time.sleep(sample_interval + 2)
            before = calls(url)
            t0 = time.time()
            time.sleep(sample_secs)
            used = delta(calls(url), before)
            took = time.time() - t0
    lookups = used.get("cloudtrail:LookupEvents", 0)
    passes = took / sample_interval
    return {
        "secrets": n_secrets,
        "pages": pages,
        "list_secs": list_secs,
        "quiet": used,
        "lookups_per_pass": lookups / passes,
        "passes": passes,
        "window": took,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/secretscope")
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--secrets", type=int, default=300)
    ap.add_argument("--interval", type=int, default=30)
    ap.add_argument("--hour-secrets", type=int, default=100_000)
    ap.add_argument("--sample-interval", type=int, default=5)
    ap.add_argument("--sample-secs", type=int, default=60)
    ap.add_argument("--skip-hour", action="store_true")
    a = ap.parse_args()

    lat = latency(a.bin, a.secrets, a.changes, a.interval)
    print(f"### Change to visible: {lat['changes']} tag changes, {lat['secrets']} secrets, incremental every {a.interval} s")
    print()
    print("| median (s) | p90 (s) | min (s) | max (s) | calls at the endpoint meanwhile |")
    print("| --- | --- | --- | --- | --- |")
    used = ", ".join(f"{k} {v}" for k, v in sorted(lat["calls"].items()))
    print(f"| {lat['median']:.1f} | {lat['p90']:.1f} | {lat['min']:.1f} | {lat['max']:.1f} | {used} |")
    print()
    rereads = ("secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds")
    per_change = sum(lat["calls"].get(k, 0) for k in rereads) / max(lat["changes"], 1)
    print(f"Secrets Manager calls per change (DescribeSecret, ListSecretVersionIds): {per_change:.2f}")
    print()
    if a.skip_hour:
        return
    h = hour(a.bin, a.hour_secrets, a.sample_interval, a.sample_secs)
    before = h["pages"] * 12
    lookups_hour = h["lookups_per_pass"] * 3600 / 30
    after_quiet = lookups_hour + h["pages"]
    print(f"### AWS calls per hour at {h['secrets']:,} secrets")
    print()
    print(f"- one list pass: {h['pages']} ListSecrets pages ({h['list_secs']:.1f} s with `sync`)")
    print(
        f"- quiet account, incremental every {a.sample_interval} s for {h['window']:.0f} s "
        f"({h['passes']:.0f} passes): {json.dumps(h['quiet'])}, "
        f"{h['lookups_per_pass']:.2f} LookupEvents per pass"
    )
    print()
    print("| | calls per hour |")
    print("| --- | --- |")
    print(f"| before: list pass every 5 min ({h['pages']} pages x 12) | {before:,.0f} |")
    print(
        f"| after, quiet: incremental every 30 s ({h['lookups_per_pass']:.2f} x 120) + list pass every hour ({h['pages']}) | {after_quiet:,.0f} |"
    )
    for n in (100, 1000):
        print(
            f"| after, {n} changes an hour ({per_change:.2f} calls each) | {after_quiet + n * per_change:,.0f} |"
        )
    print()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.")


if __name__ == "__main__":
    main()
