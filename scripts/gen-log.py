#!/usr/bin/env python3
"""Writes a production log (src/hub/histlog.h's format) of synthetic
readings, for scripts/bench-store.sh and tests/sys_store.sh.

    gen-log.py NODES SECONDS [START_MS] > LOG

NODES nodes (n000, n001, ...) send one reading a second for SECONDS
seconds from START_MS (default 2025-12-01T00:00:00Z), boot 1, seq from 1,
node by node interleaved as a hub receives them.  About 1 % of the
readings lie in anomaly episodes of 20 to 60 s (pressure, temperature or
vibration over its warning threshold, some over the critical one)."""
import random
import sys


def main():
    nodes, seconds = int(sys.argv[1]), int(sys.argv[2])
    start = int(sys.argv[3]) if len(sys.argv) > 3 else 1764547200000
    rnd = random.Random(14)
    out = sys.stdout
    episode = [0] * nodes       # seconds left in an episode
    kind = [0] * nodes
    names = ["n%03d" % i for i in range(nodes)]
    topic = "plant1/area1/line1/%s/telemetry"
    lines = []
    for s in range(seconds):
        ts = start + s * 1000
        for i in range(nodes):
            p, t, v = 5.0 + rnd.random(), 60.0 + rnd.random() * 5, \
                2.0 + rnd.random()
            if episode[i] == 0 and rnd.random() < 1 / 4000:
                episode[i] = rnd.randint(20, 60)
                kind[i] = rnd.randint(0, 2)
            if episode[i]:
                episode[i] -= 1
                crit = episode[i] % 7 == 0
                if kind[i] == 0:
                    p = 9.6 if crit else 8.5
                elif kind[i] == 1:
                    t = 96.0 if crit else 85.0
                else:
                    v = 7.5 if crit else 5.0
            status = 2 if (p >= 9.5 or t >= 95 or v >= 7.1) else \
                1 if (p >= 8 or t >= 80 or v >= 4.5) else 0
            n = names[i]
            lines.append(
                '{"received":%d,"topic":"%s","ts":%d,'
                '"guarantee":"exactly-once","payload":{"node_id":"%s",'
                '"timestamp":%d,"boot_id":1,"seq":%d,"data":{"p":%.2f,'
                '"t":%.1f,"v":%.2f},"status":%d}}\n'
                % (ts + 15, topic % n, ts, n, ts, s + 1, p, t, v, status))
        if len(lines) > 50000:
            out.write("".join(lines))
            lines = []
    out.write("".join(lines))


main()
