"""How soon a write reaches every node: for bench-postgres.sh's `visibility` part.

Each round writes one new story with examples/gen_store into the shared database from a
process of its own, and from the moment that writer exits polls both nodes (one after the
other, a new connection each time, then 5 ms of sleep: a resolution of ~6-10 ms, and node b
is always asked second) until each serves a feed with the story's link in it. Prints one
line per round: the seconds each node took after the writer's exit, then the seconds the
writer ran. The writer commits (and sends its NOTIFY) before it exits: the truth lies
between the first figures and the first plus the last.

Usage: visibility.py GEN_STORE DB_URL ROUNDS FEED_URL...
"""
import os
import subprocess
import sys
import time
import urllib.request

TIMEOUT = 30.0


def body(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8", "replace")


def main():
    gen_store, db, rounds, feeds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    for n in range(rounds):
        key = 1_000_000 + n
        # gen_store's story `key` links to .../posts/<key in hex>-notes.
        link = f"/posts/{key:x}-notes"
        env = dict(os.environ, GEN_STORE_FIRST=str(key))
        started = time.perf_counter()
        subprocess.run([gen_store, db, "1", "1", "20"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        written = time.perf_counter()
        seen = [None] * len(feeds)
        while None in seen:
            if time.perf_counter() - written > TIMEOUT:
                sys.exit(f"round {n}: a node did not serve the write within {TIMEOUT:.0f} s")
            for i, url in enumerate(feeds):
                if seen[i] is None and link in body(url):
                    seen[i] = time.perf_counter() - written
            time.sleep(0.005)
        print(" ".join(f"{s:.4f}" for s in seen), f"{written - started:.4f}", flush=True)


if __name__ == "__main__":
    main()
