"""The recipes in deploy/: the systemd unit passes `systemd-analyze verify`
with a sandbox that keeps its exposure score low, and the image builds
without a container registry, runs `serve` as a non-root user with its
configuration from a mounted file and its SQLite store on a volume, and
answers the probes.

.ci/test runs it on the release build (the defaults: target/release/secretscope
and target/site; SECRETSCOPE_BIN and SECRETSCOPE_SITE name others):

    python3 -m pytest -q -rs deploy

Where podman cannot run a container (no podman, or a runtime refused by the
machine), the image tests skip and say why; the unit tests need only
systemd-analyze.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "end2end" / "python"))
from support import ROOT, free_port  # noqa: E402

# The release build, what the recipes ship (not support.BIN's debug build).
BIN = os.environ.get("SECRETSCOPE_BIN", str(ROOT / "target" / "release" / "secretscope"))
DEPLOY = ROOT / "deploy"
SITE = os.environ.get("SECRETSCOPE_SITE", str(ROOT / "target" / "site"))
IMAGE = "localhost/secretscope:test"
# The highest `systemd-analyze security` exposure the unit may have (0 is
# fully locked down, 10 is none of it; 1.1 when this was written).
MAX_EXPOSURE = 1.5


# ---- the systemd unit ------------------------------------------------------


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    """deploy/secretscope.service, with ExecStart pointing at the binary under
    test: verify checks that the command exists, and /usr/local/bin is where
    the install steps put it, not where the build leaves it."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (.ci/setup test installs systemd)")
    assert Path(BIN).is_file(), f"{BIN} is missing: cargo leptos build --release (or set SECRETSCOPE_BIN)"
    text = (DEPLOY / "secretscope.service").read_text()
    assert "ExecStart=/usr/local/bin/secretscope serve" in text
    path = tmp_path_factory.mktemp("unit") / "secretscope.service"
    path.write_text(text.replace("ExecStart=/usr/local/bin/secretscope", f"ExecStart={Path(BIN).resolve()}"))
    return path


def test_unit_verifies(unit):
    res = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "secretscope.service" not in res.stderr, res.stderr


def test_unit_sandbox_exposure(unit):
    res = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    out = res.stdout + res.stderr
    m = re.search(r"Overall exposure level for secretscope\.service: ([0-9.]+)", out)
    assert m, out
    assert float(m.group(1)) <= MAX_EXPOSURE, out


# ---- the image -------------------------------------------------------------


class Podman:
    """podman with its own storage in a temporary directory (vfs: works in a
    container too) and the run options this machine accepts."""

    def __init__(self, top: Path):
        self.base = [
            "podman",
            "--root", str(top / "storage"),
            "--runroot", str(top / "run"),
            "--tmpdir", str(top / "libpod"),
            "--storage-driver", "vfs",
            "--cgroup-manager", "cgroupfs",
        ]
        self.run_opts: list[str] = []
        self.names: list[str] = []

    def __call__(self, *args, check=True, timeout=300):
        res = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed:\n{res.stdout}{res.stderr}")
        return res

    def choose_runtime(self):
        """The first way of running a container that works here. Inside a
        container podman's defaults can be refused: crun will not run on a
        hybrid cgroup v1/v2 host, and neither runtime may raise the rlimits
        podman asks for without CAP_SYS_RESOURCE. Returns None, or why not
        (the image itself was checked without podman: see the fixture)."""
        nofile = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip()
        if not nofile.isdigit():  # "unlimited"
            nofile = "1048576"
        limits = ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", "nproc=4096:4096"]
        tries = [([], []), ([], limits)]
        if shutil.which("runc"):
            tries.append((["--runtime", "runc"], limits))
        errors = []
        for global_opts, run_opts in tries:
            res = subprocess.run(
                self.base + global_opts + ["run", "--rm"] + run_opts + [IMAGE, "--version"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if res.returncode == 0 and res.stdout.startswith("secretscope "):
                self.base += global_opts
                self.run_opts = run_opts
                print(f"podman runs containers here with: {' '.join(global_opts + run_opts) or 'its defaults'}")
                return None
            err = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
            errors.append(f"{' '.join(global_opts + run_opts) or 'defaults'}: {err}")
        return "; ".join(errors)

    def start(self, name, *args):
        self.names.append(name)
        return self("run", "-d", "--name", name, *self.run_opts, *args)

    def logs(self, name):
        res = self("logs", name, check=False)
        return res.stdout + res.stderr

    def cleanup(self):
        for name in reversed(self.names):
            self("rm", "-f", "-t", "10", name, check=False)
        self("volume", "rm", "-a", "-f", check=False)


@pytest.fixture(scope="module")
def podman():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (.ci/setup test installs podman and runc)")
    if not Path(SITE, "pkg", "secretscope.wasm").exists():
        pytest.skip(f"{SITE}/pkg/secretscope.wasm is missing: the image needs the release site (cargo leptos build --release)")
    top = Path(tempfile.mkdtemp(prefix="secretscope-podman-"))
    p = Podman(top)
    try:
        env = dict(os.environ, PODMAN=" ".join(p.base), SECRETSCOPE_BIN=BIN, SECRETSCOPE_SITE=SITE)
        started = time.monotonic()
        build = subprocess.run(
            [str(DEPLOY / "build-image.sh"), IMAGE], env=env, capture_output=True, text=True, timeout=600
        )
        assert build.returncode == 0, build.stdout + build.stderr
        size = p("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip()
        print(f"image built in {time.monotonic() - started:.1f} s, {int(size) / 1e6:.1f} MB")
        # The image's own file system runs the binary (its libraries and
        # loader are there) whether or not podman can run containers here.
        mount = p("image", "mount", IMAGE).stdout.strip()
        try:
            res = subprocess.run(["chroot", mount, "/usr/local/bin/secretscope", "--version"], capture_output=True, text=True)
            assert res.returncode == 0 and res.stdout.startswith("secretscope "), res.stdout + res.stderr
        finally:
            p("image", "unmount", IMAGE, check=False)
        why_not = p.choose_runtime()
        if why_not:
            pytest.skip(f"podman cannot run a container on this machine: {why_not}")
        yield p
    finally:
        p.cleanup()
        shutil.rmtree(top, ignore_errors=True)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def wait_ready(podman, name, port, deadline=180):
    """Waits (generously: the machine is shared) for /readyz to answer 200."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = get(f"http://127.0.0.1:{port}/readyz")
        if last[0] == 200:
            return
        state = podman("inspect", name, "--format", "{{.State.Status}}").stdout.strip()
        assert state == "running", f"{name} stopped ({state}):\n{podman.logs(name)}"
        time.sleep(1)
    raise AssertionError(f"/readyz never answered 200 (last: {last}):\n{podman.logs(name)}")


def test_image_serves_demo_as_non_root(podman):
    port = free_port()
    podman.start("ss-demo", "-p", f"127.0.0.1:{port}:8080", IMAGE, "serve", "--demo")
    wait_ready(podman, "ss-demo", port)
    assert get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
    logs = podman.logs("ss-demo")
    assert "secretscope is running at http://0.0.0.0:8080/" in logs, logs
    assert "\x1b[" not in logs, "the log has terminal colour codes"
    # The site directory is in the image: the wasm bundle is served.
    assert get(f"http://127.0.0.1:{port}/pkg/secretscope.wasm")[0] == 200
    assert podman("inspect", IMAGE, "--format", "{{.Config.User}}").stdout.strip() == "10001:10001"
    # The process itself, seen from the host (the image has no ps).
    pid = podman("inspect", "ss-demo", "--format", "{{.State.Pid}}").stdout.strip()
    uids = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:"))
    assert uids.split()[1:] == ["10001"] * 4, uids


def test_image_reads_mounted_config_and_keeps_store_on_volume(podman, tmp_path):
    """Against an endpoint in a second container (sharing its network
    namespace, as a sidecar would): the first start creates the admin and the
    SQLite file on the volume; a new container on the same volume finds them."""
    config = tmp_path / "secretscope.toml"
    config.write_text(
        'site_root = "/usr/share/secretscope/site"\n'
        "[aws]\n"
        'endpoint_url = "http://127.0.0.1:4566"\n'
        "[store]\n"
        'sqlite_path = "/var/lib/secretscope/secretscope.db"\n'
    )
    config.chmod(0o644)
    port = free_port()
    podman.start(
        "ss-endpoint", "-p", f"127.0.0.1:{port}:8080", IMAGE,
        "local-endpoint", "--bind", "127.0.0.1:4566", "--seed-secrets", "50",
    )
    serve = [
        "--network", "container:ss-endpoint",
        "-v", f"{config}:/etc/secretscope/secretscope.toml:ro",
        "-v", "ss-data:/var/lib/secretscope",
        IMAGE,
    ]
    podman.start("ss-serve-1", *serve)
    wait_ready(podman, "ss-serve-1", port)
    assert "created now because the store had no users" in podman.logs("ss-serve-1")
    mount = Path(podman("volume", "inspect", "ss-data", "--format", "{{.Mountpoint}}").stdout.strip())
    db = mount / "secretscope.db"
    assert db.exists(), list(mount.iterdir())
    assert db.stat().st_uid == 10001
    podman("rm", "-f", "-t", "10", "ss-serve-1")

    podman.start("ss-serve-2", *serve)
    wait_ready(podman, "ss-serve-2", port)
    assert "created now" not in podman.logs("ss-serve-2")


# ---- the unit under a real systemd (opt-in) --------------------------------

BOOT = os.environ.get("SECRETSCOPE_TEST_SYSTEMD_BOOT") == "1"


def sh(podman, name, script, check=True):
    return podman("exec", "-w", "/repo", name, "sh", "-ec", script, check=check)


@pytest.mark.skipif(not BOOT, reason="set SECRETSCOPE_TEST_SYSTEMD_BOOT=1 to boot systemd on a debootstrapped Debian (about 3 minutes)")
def test_unit_runs_sandboxed_under_systemd(podman):
    """The README's install steps in a Debian made with debootstrap, booted
    with systemd 252 under podman: the service starts as a dynamic user with
    no capabilities, no new privileges and a system call filter, keeps its
    store in its StateDirectory, answers /readyz, and comes back after a kill."""
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    top = Path(tempfile.mkdtemp(prefix="secretscope-systemd-"))
    try:
        boot_and_check(podman, top / "rootfs")
    finally:
        podman("rm", "-f", "-t", "10", "ss-systemd", check=False)
        shutil.rmtree(top, ignore_errors=True)


def boot_and_check(podman, rootfs):
    boot = subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,curl,dbus", "bookworm", str(rootfs)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert boot.returncode == 0, boot.stdout[-2000:] + boot.stderr[-2000:]
    podman.start(
        "ss-systemd", "--systemd=always",
        "-v", f"{Path(BIN).resolve()}:/repo/target/release/secretscope:ro",
        "-v", f"{SITE}:/repo/target/site:ro",
        "-v", f"{DEPLOY}:/repo/deploy:ro",
        "--rootfs", str(rootfs), "/lib/systemd/systemd",
    )
    end = time.monotonic() + 120
    while sh(podman, "ss-systemd", "systemctl is-system-running", check=False).stdout.strip() not in ("running", "degraded"):
        assert time.monotonic() < end, podman.logs("ss-systemd")
        time.sleep(1)
    # README "The systemd unit", with the endpoint a local one (no AWS here).
    sh(podman, "ss-systemd", """
        install -m 755 target/release/secretscope /usr/local/bin/secretscope
        mkdir -p /usr/share/secretscope && cp -r target/site /usr/share/secretscope/site
        install -D -m 644 deploy/secretscope.toml /etc/secretscope/secretscope.toml
        sed -i 's|^# region = .*|endpoint_url = "http://127.0.0.1:4566"|' /etc/secretscope/secretscope.toml
        install -m 644 deploy/secretscope.service /etc/systemd/system/
        systemctl daemon-reload
    """)
    podman("exec", "-d", "ss-systemd", "/usr/local/bin/secretscope", "local-endpoint", "--bind", "127.0.0.1:4566")
    sh(podman, "ss-systemd", "systemctl enable --now secretscope")

    def ready():
        end = time.monotonic() + 120
        while True:
            res = sh(podman, "ss-systemd", "curl -s http://127.0.0.1:8080/readyz", check=False)
            if res.stdout == "ready\n":
                return
            journal = sh(podman, "ss-systemd", "journalctl -u secretscope --no-pager | tail -20", check=False).stdout
            assert time.monotonic() < end, journal
            time.sleep(1)

    ready()
    status = sh(podman, "ss-systemd", "grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' /proc/$(systemctl show -p MainPID --value secretscope)/status").stdout
    fields = {line.split(":")[0]: line.split()[1:] for line in status.splitlines()}
    assert fields["Uid"][0] != "0", status
    assert fields["CapEff"] == ["0000000000000000"], status
    assert fields["NoNewPrivs"] == ["1"], status
    assert fields["Seccomp"] == ["2"], status
    store = sh(podman, "ss-systemd", "stat -c '%u %a' /var/lib/private/secretscope /var/lib/private/secretscope/secretscope.db").stdout.split("\n")
    assert store[0] == f"{fields['Uid'][0]} 700", store
    assert store[1] == f"{fields['Uid'][0]} 600", store
    # Restart=on-failure: killed, it comes back.
    sh(podman, "ss-systemd", "kill -9 $(systemctl show -p MainPID --value secretscope)")
    time.sleep(1)
    ready()
    assert sh(podman, "ss-systemd", "systemctl show -p NRestarts --value secretscope").stdout.strip() == "1"
