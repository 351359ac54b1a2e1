#!/usr/bin/env python3
"""CPU each running ImageGen process spends per second while nothing happens.

Start the app as a developer does (dotnet run --project ImageGen.AppHost), wait until every resource is healthy and
a minute more (start-up work settles), then: python3 ImageGen.Benchmarks/scripts/idle-cpu.py 60
It reads utime + stime of each process from /proc before and after the window, so it measures the processes as they
run, dashboard export included (the benchmark's own graph exports no telemetry).
"""
import os
import sys
import time

NAMES = ["ImageGen.Api", "ImageGen.Worker", "ImageGen.Web", "ImageGen.Gateway", "ImageGen.ProviderSimulator", "ImageGen.AppHost"]
INFRA = ["dcp", "redis-server", "postgres"]
TICKS = os.sysconf("SC_CLK_TCK")


def sample():
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = [a.decode(errors="ignore") for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if a]
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        if not argv:
            continue
        name = next((n for n in NAMES if argv[0].endswith("/" + n) or any(a.endswith(n + ".dll") for a in argv)), None)
        name = name or next((n for n in INFRA if os.path.basename(argv[0]).startswith(n)), None)
        if name:
            fields = stat[stat.rindex(")") + 2:].split(" ")
            found[(name, pid)] = int(fields[11]) + int(fields[12])
    return found


window = float(sys.argv[1]) if len(sys.argv) > 1 else 60
before, started = sample(), time.time()
time.sleep(window)
after, elapsed = sample(), time.time() - started
spent = {}
for key, ticks in after.items():
    if key in before:
        spent[key[0]] = spent.get(key[0], 0) + (ticks - before[key]) * 1000 / TICKS / elapsed
for name, ms in sorted(spent.items(), key=lambda p: -p[1]):
    print(f"{name:30s} {ms:7.1f} ms/s")
print(f"{'services (ImageGen.*, not the AppHost)':30s} {sum(v for k, v in spent.items() if k.startswith('ImageGen.') and k != 'ImageGen.AppHost'):7.1f} ms/s")
