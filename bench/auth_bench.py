#!/usr/bin/env python3
"""Sign-in and authorized-request benchmark for secretscope (issue 6).

Starts `secretscope local-endpoint` seeded with N secrets (default 100,000)
and `secretscope serve` reading it, with a throwaway store holding two
users, waits until every version date is fetched (the steady state), and
measures, with C concurrent clients (default 50):
  1. sign-in latency: C clients each POST /login (argon2id verify, session
     rotation, an audit record) at the same moment, for several rounds;
  2. authorized list latency: C signed-in sessions (half `viewer` on `*`,
     half `payments`, an operator scoped to `prod/payments/`) each call the
     list server function (`/api/list_inventory`, a search, a folder, a page)
     back to back for a fixed time, every call through the session check,
     the user and grants read from the store, and the scoped view.

Client and server share the machine's cores; the client is Python threads
on keep-alive connections.

Usage: python3 bench/auth_bench.py [--bin target/release/secretscope]
       [--secrets 100000] [--clients 50] [--login-rounds 4] [--seconds 20]
Prints a Markdown section to stdout; paste it into bench/RESULTS.md.
"""
import argparse
import http.client
import os
import platform
import statistics
import sys
import threading
import time
import urllib.parse

from benchlib import BENCH_PASSWORD, Dashboard, Proc, free_port, sign_in, wait_port

USERS = (("viewer", "viewer", "*"), ("payments", "operator", "prod/payments/"))

# What a person does on the list page: browse, search, open a folder, page.
QUERIES = [
    {"q": "", "path": "", "sort": "", "page": "1"},
    {"q": "payments", "path": "", "sort": "", "page": "1"},
    {"q": "tag:env=prod rotation:on", "path": "", "sort": "", "page": "2"},
    {"q": "", "path": "prod", "sort": "-last_rotated", "page": "1"},
    {"q": "health:high+", "path": "", "sort": "", "page": "1"},
]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


def login(port, name):
    """Signs in; returns (seconds, session cookie)."""
    t0 = time.perf_counter()
    cookie = sign_in(port, name, BENCH_PASSWORD)
    return time.perf_counter() - t0, cookie


def login_round(port, clients):
    """All clients sign in at once; returns their latencies and cookies."""
    barrier = threading.Barrier(clients)
    out = [None] * clients
    names = [("viewer", "payments")[i % 2] for i in range(clients)]

    def run(i):
        barrier.wait()
        out[i] = (names[i],) + login(port, names[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, time.perf_counter() - t0


def list_load(port, sessions, seconds):
    """Each session calls the list function back to back for `seconds`;
    returns latencies by user name, and the number of errors."""
    stop = time.perf_counter() + seconds
    lat = {"viewer": [], "payments": []}
    errors = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))

    def run(i, name, cookie):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}",
            "Cookie": cookie,
        }
        mine = []
        n = i
        barrier.wait()
        while time.perf_counter() < stop:
            body = urllib.parse.urlencode(QUERIES[n % len(QUERIES)])
            n += 1
            t0 = time.perf_counter()
            conn.request("POST", "/api/list_inventory", body, headers)
            res = conn.getresponse()
            data = res.read()
            took = time.perf_counter() - t0
            if res.status != 200:
                with lock:
                    errors.append(f"{res.status} {data[:200]!r}")
                continue
            mine.append(took)
        conn.close()
        with lock:
            lat[name].extend(mine)

    threads = [
        threading.Thread(target=run, args=(i, name, cookie))
        for i, (name, _, cookie) in enumerate(sessions)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors, time.perf_counter() - t0


def ms(x):
    return f"{x * 1000:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/secretscope")
    ap.add_argument("--secrets", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--login-rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()

    ep_port = free_port()
    env = {**os.environ, "SECRETSCOPE_LOG": "warn"}
    endpoint = [a.bin, "local-endpoint", "--bind", f"127.0.0.1:{ep_port}", "--seed-secrets", str(a.secrets)]
    serve_env = {
        **env,
        "SECRETSCOPE_SYNC_LIST_RATE_PER_SEC": "0",
        "SECRETSCOPE_SYNC_VERSION_RATE_PER_SEC": "0",
        "SECRETSCOPE_SYNC_VERSION_CONCURRENCY": "16",
        # No second list pass during the measurement.
        "SECRETSCOPE_SYNC_INTERVAL_SECS": "86400",
    }
    with Proc(endpoint, env=env):
        wait_port(ep_port)
        url = f"http://127.0.0.1:{ep_port}"
        with Dashboard(a.bin, ["--endpoint-url", url], env=serve_env, users=USERS) as dash:
            ready = dash.ready(user="viewer")
            dash.wait_versions()
            port = dash.port
            rss_before = dash.status("VmHWM")
            # One sign-in alone first: the cost of a login without contention.
            alone = [login(port, "viewer")[0] for _ in range(10)]
            logins, rounds_wall = [], []
            sessions = None
            for _ in range(a.login_rounds):
                out, wall = login_round(port, a.clients)
                logins.extend(t for _, t, _ in out)
                rounds_wall.append(wall)
                sessions = out
            rss_logins = dash.status("VmHWM")
            # Warm the scoped view (built on first use per set of grants).
            list_load(port, sessions[:2], 1.0)
            lat, errors, wall = list_load(port, sessions, a.seconds)
            rss = dash.status("VmHWM")

    calls = sum(len(v) for v in lat.values())
    print(f"### Sign-in and authorized list requests, {a.clients} concurrent sessions\n")
    print(
        f"`python3 bench/auth_bench.py --bin {a.bin} --secrets {a.secrets} --clients {a.clients} "
        f"--login-rounds {a.login_rounds} --seconds {a.seconds:g}`"
    )
    print(
        f"({platform.machine()}, {os.cpu_count()} cores shared by server and client; "
        f"`serve` reading `local-endpoint --seed-secrets {a.secrets}`, every version date fetched first; "
        f"ready after {ready:.1f} s)\n"
    )
    print("| measurement | n | p50 ms | p95 ms | max ms | throughput |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| sign-in, one at a time | {len(alone)} | {ms(statistics.median(alone))} | "
        f"{ms(pct(alone, 95))} | {ms(max(alone))} | — |"
    )
    print(
        f"| sign-in, {a.clients} at once ({a.login_rounds} rounds) | {len(logins)} | "
        f"{ms(statistics.median(logins))} | {ms(pct(logins, 95))} | {ms(max(logins))} | "
        f"{len(logins) / sum(rounds_wall):.1f} sign-ins/s |"
    )
    for name, what in [("viewer", "viewer on `*`"), ("payments", "operator on `prod/payments/`")]:
        xs = lat[name]
        if not xs:
            continue
        print(
            f"| list, {what} ({a.clients // 2} sessions) | {len(xs)} | "
            f"{ms(statistics.median(xs))} | {ms(pct(xs, 95))} | {ms(max(xs))} | "
            f"{len(xs) / wall:.0f} calls/s |"
        )
    print(f"\nAll list calls: {calls} in {wall:.1f} s, {len(errors)} errors.")
    print(
        f"`serve` peak RSS: {rss_before / 1024:.0f} MB before the sign-ins, "
        f"{rss_logins / 1024:.0f} MB after them, {rss / 1024:.0f} MB after the list load."
    )
    if errors:
        print("First errors: " + "; ".join(errors[:3]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
