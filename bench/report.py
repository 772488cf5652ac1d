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
    if len(values) == 1:
        return fmt.format(med)
    return "%s (%s–%s)" % (fmt.format(med), fmt.format(min(values)),
                           fmt.format(max(values)))


def throughput(figures, requests, connections, rounds):
    names = {
        "ingest": "alertbridge, verified and committed",
        "paced": "alertbridge, open loop at 80 % of its peak",
        "ceiling": "alertbridge's compute ceiling (no HTTP, one thread)",
        "noverify": "alertbridge, verification off",
        "nginx": "nginx `return 200` (HTTP ceiling)",
        "am": "Alertmanager 0.25, one alert per POST",
    }
    if ("ingest", "rps") not in figures:
        return
    print("%s requests of each kind at %s connections, %s rounds; "
          "median (min–max)" % (requests, connections, rounds))
    print()
    print("| system | requests/s | p50 ms | p99 ms | idle RSS MiB "
          "| peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for system, name in names.items():
        if (system, "rps") not in figures:
            continue
        row = [name, spread(figures[system, "rps"])]
        for key in ("p50", "p99"):
            values = figures.get((system, key))
            row.append(spread(values, digits=2) if values else "–")
        for key in ("idle", "peak"):
            values = figures.get((system, key))
            row.append(spread(values, 1 / 1024, 1) if values else "–")
        print("| " + " | ".join(row) + " |")
    batch = figures.get(("ceiling", "batch"))
    if batch:
        print()
        print("The ceiling commits once per %s requests: the mean batch "
              "the writer made during each round's ingest." % spread(batch))


def storm(figures):
    def one(key):
        values = figures.get(("storm", key))
        return values[0] if values else None

    if one("alarms") is None:
        return
    keys = int(one("keys"))
    print()
    print("Storm: %d distinct alarms posted in %.1f s over %d routing "
          "keys, a sink allowing %d events a minute per key"
          % (one("alarms"), one("post_s"), keys, one("rate")))
    print()
    print("| storm | measured |")
    print("| --- | --- |")
    rows = [
        ("triggers accepted by the sink", "%d" % one("accepted")),
        ("fewest accepted for one key (of %d keys seen)"
         % one("keys_seen"), "%d" % one("min_per_key")),
        ("dedup keys with exactly one trigger", "%d" % one("single_trigger")),
        ("duplicate triggers", "%d" % one("duplicate_triggers")),
        ("out of order", "%d" % one("out_of_order")),
        ("dead letters", "%d" % one("dead")),
        ("429s provoked (most for one key)", "%d (%d)"
         % (one("throttled"), one("max_throttled_per_key"))),
        ("outbox empty after", "%.1f s" % one("drain_s")),
        ("PagerDuty's floor", "%.1f s" % one("floor_s")),
        ("peak RSS (VmHWM)", "%.1f MiB" % (one("peak") / 1024)),
    ]
    for name, value in rows:
        print("| %s | %s |" % (name, value))


def incidents(figures):
    if ("incidents", "n") not in figures:
        return
    n = figures["incidents", "n"][0]
    print()
    print("| %d open incidents | measured |" % n)
    print("| --- | --- |")
    print("| open / escalation timers pending | %d / %d |"
          % (figures["incidents", "open"][0],
             figures["incidents", "timers"][0]))
    print("| RSS once settled | %.1f MiB |"
          % (figures["incidents", "rss"][0] / 1024))
    print("| peak RSS while they came in | %.1f MiB |"
          % (figures["incidents_peak", "hwm"][0] / 1024))
    if ("restart", "ready_s") in figures:
        print("| restart to READY=1 with %d in the outbox, s | %s |"
              % (figures["restart", "outbox"][0],
                 spread(figures["restart", "ready_s"], digits=3)))
        print("| RSS at READY=1 | %s MiB |"
              % spread(figures["restart", "rss"], 1 / 1024, 1))


def main():
    path, requests, connections, rounds = sys.argv[1:5]
    figures, ratios = read(path)
    throughput(figures, requests, connections, rounds)
    storm(figures)
    incidents(figures)

    def ratio(name):
        values = ratios.get(name)
        return statistics.median(values) if values else None

    def fig(system, key, scale=1.0, fn=statistics.median):
        values = figures.get((system, key))
        return fn(values) * scale if values else None

    def storm_complete():
        accepted = fig("storm", "accepted")
        if accepted is None:
            return None
        alarms = fig("storm", "alarms")
        per_key = alarms / fig("storm", "keys")
        whole = (accepted == alarms and
                 fig("storm", "min_per_key") == per_key and
                 fig("storm", "keys_seen") == fig("storm", "keys") and
                 fig("storm", "single_trigger") == alarms and
                 fig("storm", "duplicate_triggers") == 0 and
                 fig("storm", "out_of_order") == 0 and
                 fig("storm", "dead") == 0)
        return 1.0 if whole else 0.0

    mib = 1 / 1024
    # (name, value, bound, format): value >= bound passes, or value <=
    # -bound for a negative bound; the format is a %-string or a function.
    targets = [
        ("ingest ≥ 2× Alertmanager", ratio("vs_alertmanager"), 2.0,
         "%.2f×"),
        ("ingest ≥ 70 % of the compute ceiling", ratio("of_ceiling"), 0.7,
         "%.2f"),
        ("verified ≥ 60 % of unverified", ratio("verify_cost"), 0.6,
         "%.2f"),
        ("p99 ≤ 10 ms at 80 % of the peak rate", fig("paced", "p99"),
         -10.0, "%.2f ms"),
        ("idle RSS ≤ 8 MiB", fig("ingest", "idle", mib), -8.0, "%.1f MiB"),
        ("RSS ≤ 64 MiB under ingest", fig("ingest", "peak", mib, max),
         -64.0, "%.1f MiB"),
        ("RSS ≤ 64 MiB through the storm", fig("storm", "peak", mib),
         -64.0, "%.1f MiB"),
        ("storm: every trigger delivered once, in order, none lost",
         storm_complete(), 1.0, lambda v: "yes" if v else "no"),
        ("storm: no 429 beyond the first per key",
         fig("storm", "max_throttled_per_key"), -1.0, "%.0f at most"),
        ("restart to ready ≤ 1 s with %s open incidents"
         % ("%d" % fig("incidents", "n") if fig("incidents", "n")
            else "100,000"), fig("restart", "ready_s"), -1.0, "%.3f s"),
    ]
    print()
    print("| target | measured (median; ratios within a round) | |")
    print("| --- | --- | --- |")
    for name, value, bound, fmt in targets:
        if value is None:
            print("| %s | not measured | – |" % name)
            continue
        met = value <= -bound if bound < 0 else value >= bound
        shown = fmt(value) if callable(fmt) else fmt % value
        print("| %s | %s | %s |" % (name, shown, "pass" if met else "MISS"))
    for name, label, digits in [
            ("of_http_ceiling", "ingest / nginx", 2),
            ("storm_drain", "storm: outbox empty / PagerDuty's floor", 2)]:
        value = ratio(name)
        if value is not None:
            print("| (for reference) %s | %.*f | |" % (label, digits, value))
    if fig("fsync", "p50") is not None:
        print("| (for reference) fdatasync of the state's disk, p50 / p99 "
              "| %.2f / %.2f ms | |" % (fig("fsync", "p50"),
                                        fig("fsync", "p99")))
    rss = fig("incidents", "rss", mib)
    if rss is not None:
        print("| (for reference) RSS with %d open incidents | %.1f MiB | |"
              % (fig("incidents", "n"), rss))
    for system, label in [("am", "Alertmanager")]:
        if fig(system, "idle") is not None:
            print("| (for reference) %s idle / under load RSS | %.1f / "
                  "%.1f MiB | |" % (label, fig(system, "idle", mib),
                                    fig(system, "peak", mib, max)))


if __name__ == "__main__":
    main()
