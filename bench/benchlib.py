"""Helpers shared by the benchmark scripts: free loopback ports, waiting for a
listener, and subprocesses that are always stopped."""
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
