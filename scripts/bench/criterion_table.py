#!/usr/bin/env python3
"""Prints the criterion results written since a given time as one table: median time per
iteration, entries/s and MB/s where the bench declares a throughput, and the ratio to the
same-run reference of its group (a bench named `baseline*` or `window-read` in the same group,
else the bench of the same name in the `baseline` group).

Usage: criterion_table.py CRITERION_DIR [SINCE_UNIX_SECONDS]
"""
import json
import os
import sys


def load(root, since):
    rows = []
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        est_path = os.path.join(dirpath, "estimates.json")
        if os.path.getmtime(est_path) < since:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(est_path) as f:
            est = json.load(f)
        rows.append((bench["group_id"], bench["function_id"], est["median"]["point_estimate"],
                     bench.get("throughput")))
    return rows


def reference(rows, group, name):
    by_key = {(g, f): t for g, f, t, _ in rows}
    for g, f, t, _ in rows:
        if g == group and f != name and (f.startswith("baseline") or f == "window-read"):
            return f, t
    if group != "baseline" and ("baseline", name) in by_key:
        return "baseline/" + name, by_key[("baseline", name)]
    return None, None


def human_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.0f} ns"


def main():
    root = sys.argv[1]
    since = float(sys.argv[2]) if len(sys.argv) > 2 else 0
    rows = sorted(load(root, since))
    if not rows:
        print("no criterion results found under", root)
        return
    print(f"{'benchmark':<42} {'median':>10} {'entries/s':>12} {'MB/s':>8}  ratio to same-run reference")
    for group, name, ns, tp in rows:
        secs = ns / 1e9
        elems = bytes_ = None
        if tp:
            kind, value = next(iter(tp.items()))
            if kind == "ElementsAndBytes":
                elems, bytes_ = value["elements"], value["bytes"]
            elif kind == "Elements":
                elems = value
            elif kind in ("Bytes", "BytesDecimal"):
                bytes_ = value
        eps = f"{elems / secs:,.0f}" if elems else ""
        mbs = f"{bytes_ / secs / 1e6:.1f}" if bytes_ else ""
        ref_name, ref_ns = reference(rows, group, name)
        ratio = f"{ns / ref_ns:.2f}x {ref_name}" if ref_ns else ""
        print(f"{group + '/' + name:<42} {human_time(ns):>10} {eps:>12} {mbs:>8}  {ratio}")


if __name__ == "__main__":
    main()
