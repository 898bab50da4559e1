"""Helpers shared by the benchmark scripts: free loopback ports, waiting for a
listener, subprocesses that are always stopped, and a signed-in dashboard."""
import os
import socket
import subprocess
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listened on {port} within {timeout} s")


class Proc:
    """A subprocess that is always stopped (use as a context manager)."""

    def __init__(self, args, env=None, cwd=None):
        self.p = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def status(self, key):
        """A field of /proc/PID/status in kB (VmRSS, VmHWM), or None."""
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return None

    def stop(self):
        if self.p.poll() is not None:
            return
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def wait_ready(port, proc, timeout=600):
    """Waits until `serve` on `port` answers /readyz with 200; returns the
    seconds it took. Fails if the process exits or the time runs out."""
    wait_port(port)
    t0 = time.time()
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).status == 200:
                return time.time() - t0
        except Exception:
            pass
        if proc.p.poll() is not None:
            raise SystemExit("serve exited before it was ready")
        if time.time() - t0 > timeout:
            raise SystemExit(f"serve not ready within {timeout} s")
        time.sleep(0.2)


def demo_client(url):
    """A boto3 Secrets Manager client for a loopback endpoint (any keys do)."""
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-not-secret"


class Dashboard:
    """`secretscope serve ARGS` on a free loopback port with a throwaway
    store holding one viewer on `*`, and that viewer's session cookie once
    `ready()` returns: every page needs a signed-in user, so a benchmark
    that did not sign in would time the redirect to /login."""

    def __init__(self, bin_, serve_args, env=None, cwd=None, users=((BENCH_USER, "viewer", "*"),)):
        import shutil
        import tempfile

        self._rm = shutil.rmtree
        self.dir = tempfile.mkdtemp(prefix="secretscope-bench-")
        self.env = {
            **(env if env is not None else os.environ),
            "SECRETSCOPE_STORE_SQLITE_PATH": os.path.join(self.dir, "store.db"),
        }
        # Every user gets BENCH_PASSWORD.
        for name, role, scope in users:
            subprocess.run(
                [bin_, "user", "add", name, "--role", role, "--scope", scope],
                input=BENCH_PASSWORD + "\n",
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
            )
        self.port = free_port()
        self.proc = Proc(
            [bin_, "serve", *serve_args, "--bind", f"127.0.0.1:{self.port}"], env=self.env, cwd=cwd
        )
        self.cookie = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def ready(self, timeout=600, user=BENCH_USER):
        """Waits for /readyz, signs in as `user`; returns the seconds until ready."""
        took = wait_ready(self.port, self.proc, timeout)
        self.cookie = sign_in(self.port, user, BENCH_PASSWORD)
        return took

    def wait_versions(self, timeout=1800):
        """Waits until every version date is fetched (the header stops
        saying so); returns the seconds it took."""
        t1 = time.time()
        while time.time() - t1 < timeout:
            if b"fetching version dates" not in self.page("/secrets?q=deleted:yes"):
                return time.time() - t1
            time.sleep(2)
        raise SystemExit(f"version dates not fetched within {timeout} s")

    def get(self, conn, path):
        """GET `path` on keep-alive `conn` as the signed-in viewer; the body,
        or exit if the answer is not 200 (a redirect to /login included)."""
        conn.request("GET", path, headers={"Cookie": self.cookie})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise SystemExit(f"GET {path}: HTTP {resp.status} {resp.getheader('Location') or ''}")
        return body

    def page(self, path, timeout=60):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            return self.get(conn, path)
        finally:
            conn.close()

    def status(self, key):
        return self.proc.status(key)

    def stop(self):
        self.proc.stop()
        self._rm(self.dir, ignore_errors=True)


def sign_in(port, name, password):
    """POSTs the login form; the session cookie (`secretscope_session=…`)."""
    import http.client
    import urllib.parse

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        body = urllib.parse.urlencode({"name": name, "password": password, "next": "/"})
        conn.request(
            "POST",
            "/login",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://127.0.0.1:{port}",
            },
        )
        res = conn.getresponse()
        res.read()
    finally:
        conn.close()
    if res.status != 303 or res.getheader("Location") != "/":
        raise SystemExit(f"sign-in as {name} failed: HTTP {res.status} {res.getheader('Location')}")
    for c in res.headers.get_all("Set-Cookie") or []:
        if c.startswith("secretscope_session="):
            return c.split(";")[0]
    raise SystemExit(f"sign-in as {name}: no session cookie")
