"""Two `serve` replicas on one PostgreSQL, reading one demo organisation.

One `local-endpoint --demo-org` process is the AWS both replicas read
(`--endpoint-url`); a webhook receiver here counts the POSTs. The
once-only work runs under the lease (src/server/lease.rs); this checks, as
a deployment would see it:

- a rotation failure is posted to the webhook exactly once;
- an expired grant is removed exactly once (one `access.expire` audit
  record, the statement gone, the request expired);
- killing the lease holder (SIGKILL) hands the work over to the other
  replica, and nothing is repeated or lost: what failed before is not
  posted again, what fails while nobody holds the lease is posted once;
- a session made on one replica works on the other.

Needs PostgreSQL: `source .ci/postgres` sets SECRETSCOPE_TEST_POSTGRES_URL
(as .ci/test does before this runs); without it the test is skipped, and
says why.
"""

import http.client
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
import urllib.parse
import uuid
from pathlib import Path

import boto3
import pytest

from support import BIN, DUMMY_ENV, free_port, start

PG = os.environ.get("SECRETSCOPE_TEST_POSTGRES_URL")
ACCOUNT = "123456789012"
PASSWORD = "correct horse battery staple"
# Short, so that a takeover happens within the test's patience; the
# defaults are 30 s and 10 s.
LEASE_SECS = 3
RENEW_SECS = 1
DEADLINE = 120

pytestmark = [
    pytest.mark.skipif(
        not PG, reason="no PostgreSQL: SECRETSCOPE_TEST_POSTGRES_URL is unset (`source .ci/postgres` sets it)"
    ),
    pytest.mark.skipif(not shutil.which("psql"), reason="no psql (Debian: postgresql-client) to set the database up"),
]


def psql(url, sql):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def until(what, f, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while True:
        got = f()
        if got:
            return got
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {deadline} s")
        time.sleep(0.2)


class Receiver:
    """A webhook receiver on a free loopback port: every POST's text."""

    def __init__(self):
        self.posts = []
        received = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append((self.headers.get("x-secretscope-delivery"), body.decode()))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def about(self, text):
        return [b for _, b in self.posts if text in b]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def database():
    name = "replicas_" + uuid.uuid4().hex[:12]
    psql(PG, f"CREATE DATABASE {name}")
    url = PG.rsplit("/", 1)[0] + "/" + name
    yield url
    psql(PG, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def endpoint(request):
    port = free_port()
    proc, log = start(request, [BIN, "local-endpoint", "--demo-org", "--seed-secrets", "60", "--bind", f"127.0.0.1:{port}"])

    def printed():
        log.seek(0)
        text = log.read().decode(errors="replace")
        if proc.poll() is not None:
            pytest.fail(f"local-endpoint exited:\n{text}")
        return "try:" in text and text

    text = until("local-endpoint prints its sources", printed, 60)
    sources = text.split("(secretscope.toml):", 1)[1].split("try:", 1)[0]
    return f"http://127.0.0.1:{port}", tomllib.loads(sources)["sources"]


@pytest.fixture(scope="module")
def aws(endpoint):
    os.environ.update(DUMMY_ENV)
    return boto3.client("secretsmanager", endpoint_url=endpoint[0], region_name="us-east-1")


class Replica:
    def __init__(self, request, config, endpoint_url, name):
        self.port = free_port()
        self.name = name
        self.proc, self.log = start(
            request,
            [BIN, "--config", str(config), "serve", "--endpoint-url", endpoint_url, "--bind", f"127.0.0.1:{self.port}"],
        )

    def text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def get(self, path, cookie=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", path, headers={"cookie": cookie} if cookie else {})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        c.close()
        return r.status, r.getheader("location"), body

    def ready(self):
        if self.proc.poll() is not None:
            pytest.fail(f"replica {self.name} exited:\n{self.text()}")
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def login(self, name, password):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = urllib.parse.urlencode({"name": name, "password": password, "next": "/"})
        c.request(
            "POST",
            "/login",
            body=body,
            headers={"content-type": "application/x-www-form-urlencoded", "origin": f"http://127.0.0.1:{self.port}"},
        )
        r = c.getresponse()
        r.read()
        assert r.status == 303, f"login on {self.name}: {r.status}"
        cookie = r.getheader("set-cookie").split(";", 1)[0]
        c.close()
        return cookie


@pytest.fixture(scope="module")
def setup(request, endpoint, database, receiver, aws):
    url, sources = endpoint
    # Everything the test acts on is in the main account, us-east-1.
    config = Path(tempfile.mkdtemp()) / "secretscope.toml"
    config.write_text(
        f"""
[[sources]]
{chr(10).join(f'{k} = {json.dumps(v)}' for k, v in sources[0].items())}

[sync]
interval_secs = 1

[health]
pending_grace_secs = 2

[alerts]
webhook_url = "{receiver.url}"
evaluate_every_secs = 1

[requests]
grants = true

[store]
database_url = "{database}"

[store.lease]
secs = {LEASE_SECS}
renew_every_secs = {RENEW_SECS}
"""
    )
    env = {**os.environ, **DUMMY_ENV}
    # The store is made (migrated) by the first command; the user is shared.
    subprocess.run(
        [BIN, "--config", str(config), "user", "add", "ops", "--role", "admin"],
        input=PASSWORD + "\n", text=True, check=True, env=env, capture_output=True,
    )
    # An access grant whose time is up before either replica starts: both
    # would remove it if both swept.
    created = aws.create_secret(Name="replicas/granted", SecretString="x")
    arn = created["ARN"]
    rid = psql(
        database,
        "INSERT INTO access_requests (secret, secret_arn, principal, justification, requested_by, requested_at, "
        "duration_secs, status, owner, approvers, askers, decided_by, decided_at, expires_at) VALUES "
        f"('replicas/granted', '{arn}', 'arn:aws:iam::{ACCOUNT}:role/reader', 'test', 'ops', 1, 60, 'active', 'ops', "
        "'[]', '[\"ops\"]', 'ops', 1, 61) RETURNING id",
    ).splitlines()[0]
    keep = {"Sid": "KeepMe", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"},
            "Action": "secretsmanager:DescribeSecret", "Resource": "*"}
    granted = {"Sid": f"secretscope-access-{rid}", "Effect": "Allow",
               "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"},
               "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    aws.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [keep, granted]}))

    replicas = [Replica(request, config, url, "a"), Replica(request, config, url, "b")]
    for r in replicas:
        until(f"replica {r.name} is ready", r.ready)
    return {"replicas": replicas, "database": database, "arn": arn, "rid": rid}


def holder(database):
    """The pid in the lease holder's id (host:pid:random), or None."""
    row = psql(database, "SELECT holder FROM leases WHERE name = 'background'")
    return int(row.split(":")[-2]) if row else None


def broken_rotation(aws, name):
    aws.create_secret(Name=name, SecretString="x", Tags=[{"Key": "owner", "Value": "team-orders"}])
    aws.rotate_secret(
        SecretId=name,
        RotationLambdaARN=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:SecretsManagerRotation-broken-orders",
        RotationRules={"AutomaticallyAfterDays": 30},
    )


def failures_of(receiver, name):
    return [b for b in receiver.about(name) if "Rotation failed" in b]


def test_a_session_made_on_one_replica_works_on_the_other(setup):
    a, b = setup["replicas"]
    assert 300 <= a.get("/")[0] < 400, "signed out: sent to the sign-in page"
    for one, other in [(a, b), (b, a)]:
        cookie = one.login("ops", PASSWORD)
        status, location, _ = other.get("/", cookie)
        assert status == 200, f"{one.name}'s session on {other.name}: {status} → {location}"


def test_an_expired_grant_is_removed_exactly_once(setup, aws):
    db, rid = setup["database"], setup["rid"]
    until("the grant expires", lambda: psql(db, f"SELECT status FROM access_requests WHERE id = {rid}") == "expired")
    # Give the other replica every chance to remove it again.
    time.sleep(3 * RENEW_SECS + 2)
    assert psql(db, "SELECT count(*) FROM audit WHERE action = 'access.expire'") == "1"
    detail = psql(db, "SELECT detail FROM audit WHERE action = 'access.expire'")
    assert "no longer in the policy" not in detail, f"removed by an earlier pass? {detail}"
    policy = json.loads(aws.get_resource_policy(SecretId=setup["arn"])["ResourcePolicy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["KeepMe"]


def test_a_rotation_failure_is_posted_once_and_a_killed_holder_hands_over(setup, aws, receiver):
    a, b = setup["replicas"]
    db = setup["database"]
    broken_rotation(aws, "replicas/before-kill")
    until("the failure is posted", lambda: failures_of(receiver, "replicas/before-kill"))
    # Several sync passes and evaluations on both replicas later: still one.
    time.sleep(5)
    assert len(failures_of(receiver, "replicas/before-kill")) == 1, receiver.posts
    starts = receiver.about("secretscope started watching")
    assert len(starts) == 1, f"the start summary (the seed has failures) once: {starts}"

    pid = until("a replica holds the lease", lambda: holder(db))
    dead, alive = (a, b) if a.proc.pid == pid else (b, a)
    assert dead.proc.pid == pid, f"the holder {pid} is neither replica ({a.proc.pid}, {b.proc.pid})"
    assert "\nsecretscope_lease_held 0\n" in alive.get("/metrics")[2], "the standby says it is not the holder"
    killed = time.monotonic()
    dead.proc.kill()
    dead.proc.wait()
    # Fails while nobody holds the lease: the next holder must post it.
    broken_rotation(aws, "replicas/after-kill")
    until("the other replica takes the lease", lambda: holder(db) == alive.proc.pid)
    took = time.monotonic() - killed
    print(f"lease taken over {took:.1f} s after the kill (lease {LEASE_SECS} s, renewed every {RENEW_SECS} s)")
    until("the failure during the handover is posted", lambda: failures_of(receiver, "replicas/after-kill"))
    time.sleep(5)
    assert len(failures_of(receiver, "replicas/after-kill")) == 1, receiver.posts
    assert len(failures_of(receiver, "replicas/before-kill")) == 1, "repeated after the takeover"
    pending = psql(db, "SELECT count(*) FROM alert_outbox WHERE state <> 'delivered'")
    assert pending == "0"
    assert alive.ready()
    assert "this replica holds the lease" in alive.text()
    assert "\nsecretscope_lease_held 1\n" in alive.get("/metrics")[2]
