"""Layout of every page at 1440x900, 1280x800 and 390x844 (issue 24).

Starts `secretscope serve --demo` on a free loopback port and runs
end2end/layout-bench.mjs against it in Debian chromium: rows whole in view
on the first screen, page height, sideways scroll and table cells outside
their table, per page and size. Prints one line per page and size.

    python3 bench/layout_bench.py --bin target/release/secretscope --site-root target/site
"""
import argparse
import os
import subprocess

from benchlib import Proc, free_port, wait_ready


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/secretscope")
    ap.add_argument("--site-root", default="target/site")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    port = free_port()
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true", SECRETSCOPE_READERS_BACKGROUND_SHARE="0")
    serve = [args.bin, "serve", "--demo", "--bind", f"127.0.0.1:{port}", "--site-root", args.site_root]
    with Proc(serve, env=env, cwd=root) as proc:
        wait_ready(port, proc)
        subprocess.run(["node", "end2end/layout-bench.mjs", f"http://127.0.0.1:{port}"], cwd=root, check=True)


if __name__ == "__main__":
    main()
