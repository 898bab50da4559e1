#!/usr/bin/env python3
"""Inventory benchmark for secretscope (issue 4), at 100,000 secrets.

Measures, against the demo endpoint (`secretscope local-endpoint`):
  1. server-side render of the list page: GET /secrets?q=... on `serve`
     (the full HTML a browser or curl receives), p50/p95 per query;
  2. the same searches done the way the AWS console and open-source viewers
     do them: ListSecrets with Filters, paginated to completion with boto3
     (MaxResults 100), against the same endpoint with no added latency, and
     again against an endpoint started with `--latency-ms 20` (a real AWS
     call takes tens of milliseconds); ratio ListSecrets time / SSR time;
  3. (--wasm) the size of the release wasm bundle, raw, `gzip -9` and
     `brotli -q 11` if the brotli CLI is installed. `--build` runs
     `cargo leptos build --release` first, into target/bench-site.

Query evaluation inside the process is measured by `cargo bench --features ssr
--bench query` (bench/query.rs).

Usage: python3 bench/inventory_bench.py [--bin target/release/secretscope]
       [--secrets 100000] [--requests 50] [--runs 5] [--latency-ms 20]
       [--skip-ssr] [--skip-list] [--wasm] [--wasm-only] [--build] [--site-root DIR]
Run it from anywhere: `serve` is started in the repository root, so it finds
the site in target/site. Prints a Markdown section to stdout.
"""
import argparse
import gzip
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

from benchlib import Dashboard, Proc, demo_client, free_port, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, query parameters of /secrets)
SSR_CASES = [
    ("(empty: everything)", {}),
    ("`payments`", {"q": "payments"}),
    ("`name:prod/*`", {"q": "name:prod/*"}),
    ("`tag:owner=alice*`", {"q": "tag:owner=alice*"}),
    ("`tag:env`", {"q": "tag:env"}),
    ("`-tag:owner`", {"q": "-tag:owner"}),
    ("`region:eu-west-1`", {"q": "region:eu-west-1"}),
    ("`kms:default`", {"q": "kms:default"}),
    ("`rotation:on`", {"q": "rotation:on"}),
    ("`deleted:yes`", {"q": "deleted:yes"}),
    ("`service:rds`", {"q": "service:rds"}),
    ("`tag:team=payments OR tag:team=checkout`", {"q": "tag:team=payments OR tag:team=checkout"}),
    ("`name:prod/* rotation:on -tag:owner`", {"q": "name:prod/* rotation:on -tag:owner"}),
    ("path `prod/payments`", {"path": "prod/payments"}),
    ("sort `-last_rotated`", {"sort": "-last_rotated"}),
    ("`payments`, page 3", {"q": "payments", "page": "3"}),
]

# The searches ListSecrets filters can express (approximately: see `note`),
# each with the secretscope search it stands for.
#   (label, secretscope query params, ListSecrets Filters, client-side filter or None, note)
LIST_CASES = [
    ("name prefix `prod/`", {"q": "name:prod/*"}, [{"Key": "name", "Values": ["prod/"]}], None, "same set"),
    ("tag key `env`", {"q": "tag:env"}, [{"Key": "tag-key", "Values": ["env"]}], None, "same set"),
    ("no tag key `owner`", {"q": "-tag:owner"}, [{"Key": "tag-key", "Values": ["!owner"]}], None, "same set"),
    (
        "tag key `owner` + tag value `alice`",
        {"q": "tag:owner=alice*"},
        [{"Key": "tag-key", "Values": ["owner"]}, {"Key": "tag-value", "Values": ["alice"]}],
        None,
        "ListSecrets cannot tie the value to the key: any tag value starting with `alice`",
    ),
    (
        "tag key `team` + tag values `payments`, `checkout`",
        {"q": "tag:team=payments OR tag:team=checkout"},
        [{"Key": "tag-key", "Values": ["team"]}, {"Key": "tag-value", "Values": ["payments", "checkout"]}],
        None,
        "values are ORed, key not tied to the value",
    ),
    (
        "description word `payments`",
        {"q": "payments"},
        [{"Key": "description", "Values": ["payments"]}],
        None,
        "description only; secretscope's word also searches name and tag values",
    ),
    (
        "`all` `payments`",
        {"q": "payments"},
        [{"Key": "all", "Values": ["payments"]}],
        None,
        "word prefixes in name, description, tag keys and values",
    ),
    (
        "owning service `rds`",
        {"q": "service:rds"},
        [{"Key": "owning-service", "Values": ["rds"]}],
        None,
        "same set",
    ),
    (
        "name `prod/` + `!owner`, rotation filtered client-side",
        {"q": "name:prod/* rotation:on -tag:owner"},
        [{"Key": "name", "Values": ["prod/"]}, {"Key": "tag-key", "Values": ["!owner"]}],
        lambda e: e.get("RotationEnabled", False),
        "rotation has no filter: every page is fetched, RotationEnabled checked in the client",
    ),
]


def endpoint(bin_, n, latency_ms=0):
    port = free_port()
    args = [bin_, "local-endpoint", "--bind", f"127.0.0.1:{port}", "--seed-secrets", str(n)]
    if latency_ms:
        args += ["--latency-ms", str(latency_ms)]
    proc = Proc(args, env={**os.environ, "SECRETSCOPE_LOG": "warn"})
    try:
        wait_port(port)
    except BaseException:
        proc.stop()
        raise
    return proc, f"http://127.0.0.1:{port}"


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def pct(sorted_samples, p):
    """Nearest-rank percentile."""
    rank = max(1, min(len(sorted_samples), -(-int(p * 100) * len(sorted_samples) // 100)))
    return sorted_samples[rank - 1]


def path_for(params):
    return "/secrets" + ("?" + urllib.parse.urlencode(params) if params else "")


def matched_count(body):
    """The number of matches the page states ("1–50 of N matching secrets")."""
    m = re.search(rb"of (\d+) (?:matching )?secrets", body)
    return int(m.group(1)) if m else 0


def start_serve(bin_, url):
    env = {
        **os.environ,
        "SECRETSCOPE_LOG": "warn",
        # Ready fast, and fetch every version date before measuring, so the
        # snapshot is the steady state of a server that has been running.
        "SECRETSCOPE_SYNC_LIST_RATE_PER_SEC": "0",
        "SECRETSCOPE_SYNC_VERSION_RATE_PER_SEC": "0",
        "SECRETSCOPE_SYNC_VERSION_CONCURRENCY": "16",
        # No second list pass during the measurement.
        "SECRETSCOPE_SYNC_INTERVAL_SECS": "86400",
    }
    dash = Dashboard(bin_, ["--endpoint-url", url], env=env, cwd=ROOT)
    try:
        ready_s = dash.ready()
        versions_s = dash.wait_versions()
    except BaseException:
        dash.stop()
        raise
    return dash, ready_s, versions_s


def ssr(a, dash):
    """p50/p95 of GET /secrets?... per case, on one keep-alive connection."""
    results = {}
    conn = http.client.HTTPConnection("127.0.0.1", dash.port, timeout=60)
    try:
        for label, params in SSR_CASES:
            path = path_for(params)
            for _ in range(a.warmup):
                body = dash.get(conn, path)
            samples = []
            for _ in range(a.requests):
                t = time.perf_counter()
                body = dash.get(conn, path)
                samples.append((time.perf_counter() - t) * 1000)
            samples.sort()
            results[label] = {
                "path": path,
                "bytes": len(body),
                "matched": matched_count(body),
                "p50": pct(samples, 0.50),
                "p95": pct(samples, 0.95),
                "max": samples[-1],
            }
    finally:
        conn.close()
    return results


def ssr_one(a, dash, params):
    conn = http.client.HTTPConnection("127.0.0.1", dash.port, timeout=60)
    try:
        path = path_for(params)
        for _ in range(a.warmup):
            dash.get(conn, path)
        samples = []
        for _ in range(a.requests):
            t = time.perf_counter()
            dash.get(conn, path)
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        return {"p50": pct(samples, 0.50), "p95": pct(samples, 0.95), "matched": matched_count(dash.get(conn, path))}
    finally:
        conn.close()


def boto3_filtered(url, filters, keep):
    client = demo_client(url)
    t0 = time.perf_counter()
    count = pages = 0
    for page in client.get_paginator("list_secrets").paginate(
        Filters=filters, IncludePlannedDeletion=True, PaginationConfig={"PageSize": 100}
    ):
        pages += 1
        count += sum(1 for e in page["SecretList"] if keep is None or keep(e))
    return count, pages, (time.perf_counter() - t0) * 1000


def list_secrets(a, url):
    out = {}
    for label, _params, filters, keep, _note in LIST_CASES:
        boto3_filtered(url, filters, keep)  # warm-up
        times = []
        for _ in range(a.runs):
            count, pages, ms = boto3_filtered(url, filters, keep)
            times.append(ms)
        out[label] = {"count": count, "pages": pages, "median": statistics.median(times), "min": min(times), "max": max(times)}
    return out


def leb128(b, i):
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def wasm_sections(raw):
    """Bytes per section of a wasm module: code, data, custom sections by name, other."""
    names = {10: "code", 11: "data"}
    out = {}
    i = 8
    while i < len(raw):
        sid = raw[i]
        size, i = leb128(raw, i + 1)
        if sid == 0:
            n, j = leb128(raw, i)
            key = "custom `" + raw[j : j + n].decode("utf-8", "replace") + "`"
        else:
            key = names.get(sid, "other sections")
        out[key] = out.get(key, 0) + size
        i += size
    return out


def wasm_sizes(path):
    raw = open(path, "rb").read()
    gz = gzip.compress(raw, compresslevel=9)
    sizes = {"raw": len(raw), "gzip -9": len(gz)}
    # Cross-check with the gzip CLI when present (the figure the budget names).
    if shutil.which("gzip"):
        cli = subprocess.run(["gzip", "-9", "-c", path], capture_output=True, check=True).stdout
        sizes["gzip -9 (CLI)"] = len(cli)
    if shutil.which("brotli"):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "w.br")
            subprocess.run(["brotli", "-q", "11", "-o", out, path], check=True)
            sizes["brotli -q 11"] = os.path.getsize(out)
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/secretscope"))
    ap.add_argument("--secrets", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--skip-ssr", action="store_true")
    ap.add_argument("--skip-list", action="store_true")
    ap.add_argument("--wasm", action="store_true", help="also measure target/site/pkg/secretscope.wasm")
    ap.add_argument("--wasm-only", action="store_true")
    ap.add_argument(
        "--build",
        action="store_true",
        help="run `cargo leptos build --release` first, writing the site to target/bench-site "
        "(LEPTOS_SITE_ROOT), where a concurrent debug `cargo leptos build` cannot overwrite it",
    )
    ap.add_argument("--site-root", default=None, help="where the built site is (default target/site, "
                    "or target/bench-site with --build)")
    a = ap.parse_args()
    a.requests = max(a.requests, 50)
    a.bin = os.path.abspath(a.bin)

    load0 = loadavg()
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}; binary `{os.path.relpath(a.bin, ROOT)}`.",
        "",
    ]
    if not a.wasm_only and not (a.skip_ssr and a.skip_list):
        lines += ssr_and_list(a)
    site = a.site_root or ("target/bench-site" if a.build else "target/site")
    if a.build:
        env = {**os.environ, "LEPTOS_OUTPUT_NAME": "secretscope", "LEPTOS_SITE_ROOT": site}
        subprocess.run(["cargo", "leptos", "build", "--release"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines += [f"Built with `LEPTOS_SITE_ROOT={site} cargo leptos build --release` just before measuring the wasm.", ""]
    if a.wasm or a.wasm_only:
        lines += wasm_section(site)
    lines.append(f"Load average (1, 5, 15 min) at the start: {load0}; at the end: {loadavg()}.")
    print("\n".join(lines))


def ssr_and_list(a):
    lines = []
    ssr_res = {}
    list_res = {}
    list_slow = {}
    ep, url = endpoint(a.bin, a.secrets)
    with ep:
        if not a.skip_ssr:
            serve, ready_s, versions_s = start_serve(a.bin, url)
            with serve:
                ssr_res = ssr(a, serve)
                # The SSR time of each ListSecrets case's secretscope search.
                for label, params, _f, _k, _n in LIST_CASES:
                    key = path_for(params)
                    hit = next((r for r in ssr_res.values() if r["path"] == key), None)
                    list_res.setdefault(label, {})["ssr"] = hit or ssr_one(a, serve, params)
            lines += [
                f"### Server-side render of the list page, {a.secrets:,} secrets",
                "",
                f"`serve --endpoint-url` against `local-endpoint --seed-secrets {a.secrets}` (no added latency). "
                f"Ready after {ready_s:.1f} s (list budget lifted); every version date fetched after a further "
                f"{versions_s:.0f} s, before measuring; no re-sync during the run. "
                f"GET on one keep-alive connection, full body read; {a.warmup} warm-up + {a.requests} timed requests each; "
                "nearest-rank percentiles.",
                "",
                "| request | matched | HTML bytes | p50 ms | p95 ms | max ms |",
                "| --- | ---: | ---: | ---: | ---: | ---: |",
            ]
            for label, _params in SSR_CASES:
                r = ssr_res[label]
                lines.append(f"| {label} (`{r['path']}`) | {r['matched']:,} | {r['bytes']:,} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |")
            worst = max(ssr_res.items(), key=lambda kv: kv[1]["p95"])
            lines += [
                "",
                f"Slowest p95: **{worst[1]['p95']:.1f} ms** ({worst[0]}); budget p95 ≤ 50 ms: "
                + ("**met**." if worst[1]["p95"] <= 50 else "**missed**."),
                "",
            ]
        if not a.skip_list:
            fast = list_secrets(a, url)
            for k, v in fast.items():
                list_res.setdefault(k, {})["fast"] = v
    if not a.skip_list and a.latency_ms:
        ep2, url2 = endpoint(a.bin, a.secrets, a.latency_ms)
        with ep2:
            list_slow = list_secrets(a, url2)
            for k, v in list_slow.items():
                list_res[k]["slow"] = v
    if not a.skip_list:
        lines += [
            f"### ListSecrets with Filters (boto3 paginator, MaxResults 100, IncludePlannedDeletion) vs secretscope SSR",
            "",
            f"The same local endpoint, {a.runs} runs after a warm-up, median (min–max) to the last page. "
            "\"no latency\": `local-endpoint` as started, no throttling, no added latency; "
            f"\"+{a.latency_ms} ms\": a second endpoint with `--latency-ms {a.latency_ms}` on every call "
            "(closer to a real AWS call). The SSR column is secretscope's p50 for the matching search, "
            "which does not call AWS per request.",
            "",
            f"| ListSecrets filters | secretscope search | matched by ListSecrets | matched by secretscope | pages | no latency ms | +{a.latency_ms} ms ms | secretscope SSR p50 ms | ratio (no latency) | ratio (+{a.latency_ms} ms) | note |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for label, params, _f, _k, note in LIST_CASES:
            r = list_res[label]
            f = r["fast"]
            s = r.get("slow")
            ss = r.get("ssr")
            q = params.get("q", "")
            slow_txt = f"{s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f})" if s else "–"
            ssr_txt = f"{ss['p50']:.1f}" if ss else "–"
            ratio_fast = f"{f['median']/ss['p50']:.0f}×" if ss else "–"
            ratio_slow = f"{s['median']/ss['p50']:.0f}×" if ss and s else "–"
            ss_n = f"{ss['matched']:,}" if ss else "–"
            lines.append(
                f"| {label} | `{q}` | {f['count']:,} | {ss_n} | {f['pages']} | {f['median']:.0f} ({f['min']:.0f}–{f['max']:.0f}) | "
                f"{slow_txt} | {ssr_txt} | {ratio_fast} | {ratio_slow} | {note} |"
            )
        lines.append("")
    return lines


def wasm_section(site):
    path = os.path.join(ROOT, site, "pkg/secretscope.wasm")
    if not os.path.exists(path):
        return [f"No {site}/pkg/secretscope.wasm: run `cargo leptos build --release` first (or use --build).", ""]
    sizes = wasm_sizes(path)
    sections = wasm_sections(open(path, "rb").read())
    js = os.path.join(ROOT, site, "pkg/secretscope.js")
    js_gz = len(gzip.compress(open(js, "rb").read(), 9)) if os.path.exists(js) else None
    mtime = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(path)))
    gz = sizes.get("gzip -9 (CLI)", sizes["gzip -9"])
    lines = [
        "### Release wasm bundle",
        "",
        f"`{site}/pkg/secretscope.wasm` written {mtime}.",
        "",
        "| encoding | bytes | KiB |",
        "| --- | ---: | ---: |",
    ]
    for k, v in sizes.items():
        lines.append(f"| {k} | {v:,} | {v/1024:.1f} |")
    if js_gz is not None:
        lines.append(f"| (secretscope.js, gzip -9) | {js_gz:,} | {js_gz/1024:.1f} |")
    lines += ["", "Sections: " + ", ".join(f"{k} {v:,} B" for k, v in sorted(sections.items(), key=lambda kv: -kv[1])) + "."]
    if sections.get("custom `name`", 0) > 100_000:
        lines.append("**Warning: a large `name` section: this looks like a debug build, not `--release`.**")
    lines += [
        "",
        f"gzip -9: **{gz/1000:.1f} kB ({gz/1024:.1f} KiB)**; budget ≤ 400 KB gzip: "
        + ("**met**." if gz <= 400 * 1000 else "**missed**."),
        "",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
