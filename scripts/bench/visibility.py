"""How soon a write reaches every node: for bench-postgres.sh's `visibility` part.

Each round asks both nodes for the topic feed (its ETag), writes one new story with
examples/gen_store into the shared database from a process of its own, and from the moment
that writer exits polls both nodes every 5 ms until each serves a different ETag. Prints one
line per round: the seconds each node took. The writer commits (and sends its NOTIFY) before
it exits, so the figures slightly under-count, by its flush and exit.

Usage: visibility.py GEN_STORE DB_URL ROUNDS FEED_URL...
"""
import os
import subprocess
import sys
import time
import urllib.request

TIMEOUT = 30.0


def etag(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        response.read()
        return response.headers.get("ETag")


def main():
    gen_store, db, rounds, feeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    for n in range(rounds):
        before = [etag(url) for url in feeds]
        env = dict(os.environ, GEN_STORE_FIRST=str(1_000_000 + n))
        subprocess.run([gen_store, db, "1", "1", "20"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        written = time.perf_counter()
        seen = [None] * len(feeds)
        while None in seen:
            elapsed = time.perf_counter() - written
            if elapsed > TIMEOUT:
                sys.exit(f"round {n}: a node did not serve the write within {TIMEOUT:.0f} s")
            for i, url in enumerate(feeds):
                if seen[i] is None and etag(url) != before[i]:
                    seen[i] = time.perf_counter() - written
            time.sleep(0.005)
        print(" ".join(f"{s:.4f}" for s in seen), flush=True)


if __name__ == "__main__":
    main()
