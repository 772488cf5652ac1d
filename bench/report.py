#!/usr/bin/env python3
"""Prints bench/run's table: each figure's median and range over the
rounds, the ratios measured within each round, and the targets."""

import statistics
import sys


def read(path):
    figures = {}  # (system, metric) -> [values]
    ratios = {}  # name -> [values]
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "ratio":
                ratios.setdefault(words[1], []).append(float(words[2]))
                continue
            system = words[0]
            for key, value in zip(words[1::2], words[2::2]):
                figures.setdefault((system, key), []).append(float(value))
    return figures, ratios


def spread(values, scale=1.0, digits=0):
    values = [v * scale for v in values]
    med = statistics.median(values)
    fmt = "{:.%df}" % digits
    return "%s (%s–%s)" % (fmt.format(med), fmt.format(min(values)),
                           fmt.format(max(values)))


def main():
    path, requests, connections, rounds = sys.argv[1:5]
    figures, ratios = read(path)
    names = {
        "ingest": "alertbridge, verified and committed",
        "noverify": "alertbridge, verification off",
        "nginx": "nginx `return 200` (HTTP ceiling)",
        "am": "Alertmanager 0.25, one alert per POST",
    }
    print("%s requests of each kind at %s connections, %s rounds; "
          "median (min–max)" % (requests, connections, rounds))
    print()
    print("| system | requests/s | p50 ms | p99 ms | idle RSS MiB "
          "| peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for system, name in names.items():
        if (system, "rps") not in figures:
            continue
        row = [name, spread(figures[system, "rps"]),
               spread(figures[system, "p50"], digits=2),
               spread(figures[system, "p99"], digits=2)]
        for key in ("idle", "peak"):
            values = figures.get((system, key))
            row.append(spread(values, 1 / 1024, 1) if values else "–")
        print("| " + " | ".join(row) + " |")

    def ratio(name):
        values = ratios.get(name)
        return statistics.median(values) if values else None

    def mib(system, key, fn=statistics.median):
        values = figures.get((system, key))
        return fn(values) / 1024 if values else None

    targets = [
        ("ingest ≥ 2× Alertmanager", ratio("vs_alertmanager"), 2.0,
         "%.2f×"),
        ("verified ≥ 60 % of unverified", ratio("verify_cost"), 0.6,
         "%.2f"),
        ("idle RSS ≤ 8 MiB", mib("ingest", "idle"), -8.0, "%.1f MiB"),
        ("RSS ≤ 64 MiB under ingest", mib("ingest", "peak", max), -64.0,
         "%.1f MiB"),
    ]
    print()
    print("| target | measured (median of in-round ratios) | |")
    print("| --- | --- | --- |")
    for name, value, bound, fmt in targets:
        if value is None:
            print("| %s | not measured | – |" % name)
            continue
        met = value <= -bound if bound < 0 else value >= bound
        print("| %s | %s | %s |" % (name, fmt % value,
                                    "pass" if met else "MISS"))
    of_ceiling = ratio("of_http_ceiling")
    if of_ceiling is not None:
        print("| (for reference) ingest / nginx | %.2f | |" % of_ceiling)


if __name__ == "__main__":
    main()
