"""boto3 against the secretscope demo endpoint, called the way an AWS user would.

Starts `secretscope local-endpoint` from $SECRETSCOPE_BIN (default
target/debug/secretscope) on a free loopback port and stops it afterwards.
"""

import json
import os
import socket
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from support import BIN, DUMMY_ENV, free_port, start
from botocore.config import Config
from botocore.exceptions import ClientError

SEEDED = 250



@pytest.fixture(scope="module")
def endpoint(request):
    if not Path(BIN).exists():
        pytest.fail(f"{BIN} does not exist: build it with `cargo build --features ssr` or set SECRETSCOPE_BIN")
    port = free_port()
    proc, log = start(request, [BIN, "local-endpoint", "--bind", f"127.0.0.1:{port}", "--seed-secrets", str(SEEDED)])
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"local-endpoint exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("local-endpoint did not listen within 60 s")
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(endpoint):
    saved = {k: os.environ.get(k) for k in DUMMY_ENV}
    os.environ.update(DUMMY_ENV)
    try:
        yield boto3.client(
            "secretsmanager",
            endpoint_url=endpoint,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def plan(endpoint):
    with urllib.request.urlopen(f"{endpoint}/__secretscope/plan", timeout=10) as resp:
        return json.load(resp)


def live(plan):
    return [p for p in plan if not p["deleted"]]


def list_names(client, filters=None):
    kwargs = {"PaginationConfig": {"PageSize": 40}}
    if filters:
        kwargs["Filters"] = filters
    pages = list(client.get_paginator("list_secrets").paginate(**kwargs))
    return pages, [s["Name"] for page in pages for s in page["SecretList"]]


def test_plan_describes_the_seed(plan):
    assert len(plan) == SEEDED
    scenarios = {p["scenario"] for p in plan}
    assert {"Healthy", "RotationFailed", "ScheduledForDeletion", "ManagedByService"} <= scenarios


def test_paginator_lists_every_live_secret(client, plan):
    pages, names = list_names(client)
    assert len(pages) > 1
    assert all(len(page["SecretList"]) <= 40 for page in pages)
    assert len(names) == len(live(plan))
    assert set(names) == {p["name"] for p in live(plan)}


def test_name_filter_is_a_case_sensitive_prefix(client, plan):
    _, names = list_names(client, [{"Key": "name", "Values": ["prod/"]}])
    expected = {p["name"] for p in live(plan) if p["name"].startswith("prod/")}
    assert expected
    assert set(names) == expected
    _, upper = list_names(client, [{"Key": "name", "Values": ["PROD/"]}])
    assert upper == []


def test_tag_key_negation(client, plan):
    pages, names = list_names(client, [{"Key": "tag-key", "Values": ["!owner"]}])
    expected = {p["name"] for p in live(plan) if not p["has_owner_tag"]}
    assert expected
    assert set(names) == expected
    for page in pages:
        for s in page["SecretList"]:
            assert all(t["Key"] != "owner" for t in s.get("Tags", []))


def test_describe_secret(client, plan):
    p = next(p for p in plan if p["scenario"] == "Replicated" and not p["hostile"])
    d = client.describe_secret(SecretId=p["name"])
    assert d["ARN"] == p["arn"]
    assert d["Name"] == p["name"]
    assert [r["Region"] for r in d["ReplicationStatus"]] == p["replica_regions"]
    assert all(r["Status"] == "InSync" for r in d["ReplicationStatus"])
    labels = [label for stages in d["VersionIdsToStages"].values() for label in stages]
    assert labels.count("AWSCURRENT") == 1
    assert ("KmsKeyId" in d) != p["kms_default"]
    by_arn = client.describe_secret(SecretId=p["arn"])
    assert by_arn["Name"] == p["name"]


def test_list_secret_version_ids(client, plan):
    p = next(p for p in live(plan) if p["deprecated_versions"] > 0 and not p["hostile"])
    current = client.list_secret_version_ids(SecretId=p["name"])["Versions"]
    assert len(current) == p["versions"] - p["deprecated_versions"]
    assert all(v["VersionStages"] for v in current)
    everything = client.list_secret_version_ids(SecretId=p["name"], IncludeDeprecated=True)["Versions"]
    assert len(everything) == p["versions"]
    assert sum(1 for v in everything if not v.get("VersionStages")) == p["deprecated_versions"]


def test_unknown_secret_is_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.describe_secret(SecretId="no/such/secret")
    assert e.value.response["Error"]["Message"] == "Secrets Manager can't find the specified secret."


def test_values_are_never_served(client, plan):
    p = live(plan)[0]
    with pytest.raises(ClientError) as e:
        client.get_secret_value(SecretId=p["name"])
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"


def test_rotate_secret_starts_a_rotation(client, plan):
    p = next(p for p in live(plan) if p["scenario"] == "Healthy" and not p["hostile"])
    r = client.rotate_secret(SecretId=p["name"])
    stages = client.describe_secret(SecretId=p["name"])["VersionIdsToStages"]
    assert "AWSPENDING" in stages[r["VersionId"]]
    with pytest.raises(ClientError) as e:
        client.rotate_secret(SecretId=p["name"])
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
