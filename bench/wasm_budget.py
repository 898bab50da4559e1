"""Fails when the release wasm bundle is over its budget, gzip -9 (issue 24).

    python3 bench/wasm_budget.py --site-root target/site --max-gzip-bytes 300000

.ci/test runs it right after `cargo leptos build --release`: a change that
makes the bundle every visitor downloads bigger than the budget fails CI,
with the figures to act on. The bundle's parts are measured with
`python3 bench/inventory_bench.py --wasm-only` (sections) and twiggy.
"""
import argparse
import gzip
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site-root", default="target/site")
    ap.add_argument("--max-gzip-bytes", type=int, required=True)
    a = ap.parse_args()
    path = os.path.join(ROOT, a.site_root, "pkg/secretscope.wasm")
    raw = open(path, "rb").read()
    gz = len(gzip.compress(raw, compresslevel=9, mtime=0))
    verdict = "within" if gz <= a.max_gzip_bytes else "OVER"
    print(f"{path}: {len(raw):,} bytes raw, {gz:,} bytes gzip -9: {verdict} the budget of {a.max_gzip_bytes:,}")
    if gz > a.max_gzip_bytes:
        print(
            "The browser bundle grew past its budget. Find what the islands pull in "
            "(twiggy top on the wasm-release build; render display-only parts on the server, "
            "see src/app/components/fragment.rs) and see bench/RESULTS.md, the wasm bundle.",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
