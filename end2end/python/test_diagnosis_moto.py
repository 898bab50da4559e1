"""Rotation diagnosis against moto_server, an independent implementation of
Lambda, KMS, EC2, IAM and Secrets Manager: a scenario built with boto3 (a
rotation function Secrets Manager may not invoke, a disabled key, a stuck
AWSPENDING), then `secretscope check --format json` reads it through the AWS
SDK and must name the causes from the metadata alone.

moto departs from AWS where noted: SimulatePrincipalPolicy answers a server
error, so the role check must say "could not be checked" (never fail the
check or invent a verdict); ListSecretVersionIds dates every version "now",
so the check runs with --no-versions and dates the stuck rotation by the
secret's LastChangedDate.
"""

import json
import os
import subprocess
import time
import urllib.request
import io
import zipfile

import boto3
import pytest

from support import BIN, DUMMY_ENV, free_port, start




@pytest.fixture(scope="module")
def moto(request):
    port = free_port()
    proc, log = start(request, ["moto_server", "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"moto_server did not start: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
    # Lambda functions are kept, never run (no Docker here).
    req = urllib.request.Request(
        f"{url}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5)
    return url


def client(moto, service):
    return boto3.client(
        service,
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("lambda_function.py", "def lambda_handler(event, context):\n    pass\n")
    return buf.getvalue()


@pytest.fixture(scope="module")
def scenario(moto):
    iam, lam, kms, sm = (client(moto, s) for s in ("iam", "lambda", "kms", "secretsmanager"))
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="rotation-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    # A function without a resource policy: Secrets Manager may not invoke it.
    fn = lam.create_function(
        FunctionName="SecretsManagerRotation-payments",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": empty_zip()},
        Timeout=30,
    )["FunctionArn"]
    key = kms.create_key(Description="payments secrets")["KeyMetadata"]
    secret = sm.create_secret(Name="prod/payments/db", KmsKeyId=key["Arn"], SecretString="initial")["ARN"]
    sm.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=fn,
        RotationRules={"AutomaticallyAfterDays": 30},
        RotateImmediately=False,
    )
    # A rotation left behind: AWSPENDING on a version that is not AWSCURRENT.
    sm.put_secret_value(SecretId=secret, SecretString="pending", VersionStages=["AWSPENDING"])
    # moto wants the key id here, not the ARN.
    kms.disable_key(KeyId=key["KeyId"])
    return {"secret": secret, "function": fn, "key": key["Arn"], "role": role}


def check(moto):
    # One attempt: moto's SimulatePrincipalPolicy is a server error, which the
    # SDK would otherwise retry with backoff for half a minute.
    env = {**os.environ, **DUMMY_ENV, "SECRETSCOPE_HEALTH_PENDING_GRACE_SECS": "0", "SECRETSCOPE_AWS_MAX_ATTEMPTS": "1"}
    out = subprocess.run(
        [BIN, "check", "--endpoint-url", moto, "--region", "us-east-1", "--format", "json",
         "--fail-on", "none", "--rule", "rotation-failed", "--no-versions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_check_names_the_causes_moto_shows(moto, scenario):
    time.sleep(3)  # past the (zero) grace period, whatever moto rounds its dates to
    doc = check(moto)
    findings = [f for f in doc["findings"] if f["arn"] == scenario["secret"]]
    assert len(findings) == 1, doc
    d = findings[0]["diagnosis"]
    checks = {c["check"]: c for c in d["checks"]}
    # GetFunction found it; GetPolicy has none: no invoke permission.
    assert checks["lambda-exists"]["status"] == "passed", checks["lambda-exists"]
    assert checks["lambda-invoke-policy"]["status"] == "failed"
    assert "add-permission" in checks["lambda-invoke-policy"]["fix"]
    assert d["cause"] == "lambda-permission"
    # DescribeKey: the key is disabled.
    assert checks["key-state"]["status"] == "failed", checks["key-state"]
    assert checks["key-state"]["cause"] == "kms-key"
    assert "Disabled" in checks["key-state"]["evidence"]
    # moto's SimulatePrincipalPolicy is a server error: not checked, no verdict.
    assert checks["role-permissions"]["status"] == "could not be checked", checks["role-permissions"]
    # Outside a VPC there is no network check.
    assert checks["network"]["status"] == "not applicable"
    # The value was never read: the check's output carries none.
    assert "pending" not in json.dumps(d) and "initial" not in json.dumps(d)


def test_a_fixed_cause_is_no_longer_reported(moto, scenario):
    client(moto, "lambda").add_permission(
        FunctionName="SecretsManagerRotation-payments",
        StatementId="SecretsManagerAccess",
        Action="lambda:InvokeFunction",
        Principal="secretsmanager.amazonaws.com",
        SourceAccount="123456789012",
    )
    kms = client(moto, "kms")
    kms.enable_key(KeyId=scenario["key"].split("/")[-1])
    doc = check(moto)
    d = next(f for f in doc["findings"] if f["arn"] == scenario["secret"])["diagnosis"]
    checks = {c["check"]: c for c in d["checks"]}
    assert checks["lambda-invoke-policy"]["status"] == "passed", checks["lambda-invoke-policy"]
    assert checks["lambda-source-account"]["status"] == "passed", checks["lambda-source-account"]
    assert checks["key-state"]["status"] == "passed", checks["key-state"]
    assert d["cause"] is None
