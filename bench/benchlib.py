"""Helpers shared by the benchmark scripts: free loopback ports, waiting for a
listener, and subprocesses that are always stopped."""
import socket
import subprocess
import time


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
