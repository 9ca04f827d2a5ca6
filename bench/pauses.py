#!/usr/bin/env python3
"""Machine pauses: stretches of time in which a core ran nothing of this machine's own.

    bench/pauses.py --seconds 60        at rest, one probe per core (also run by load.py)

One probe per core, pinned to it and scheduled SCHED_FIFO (root), sleeps 5 ms at a time
and notes every wake-up that came more than PAUSE_MS (20) late. A real-time task
preempts every ordinary process the moment its timer fires, so load on the machine
(k6, the services, the databases) does not make it late: a late wake-up means the core
itself did not run, most often because the hypervisor ran something else on it. When
both cores were late over the same stretch, the whole VM stood still. Beside the probes
is what the hypervisor itself admits to, the `steal` column of /proc/stat (CPU time it
gave to someone else, in clock ticks): a pause the probes see need not show there.

Such a pause stops k6 and the services alike. At 500 it/s a pause of 40 ms leaves 20
iterations due at once, as many as the original scenario's pre-allocated virtual users,
and k6 drops those it finds no free user for: the pauses of a run are what its
`dropped_iterations` is compared with.

It imports nothing from the project: the probes are this file started by its path.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SLEEP_S = 0.005
PAUSE_MS = 20.0


def probe(cpu):
    """Runs on `cpu` until SIGTERM, then prints the late wake-ups as JSON
    [[start, ms], ...], start in CLOCK_MONOTONIC seconds (one clock for all probes)."""
    os.sched_setaffinity(0, {cpu})
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except PermissionError:
        sys.exit("pauses.py: SCHED_FIFO needs root; without it load would show as pauses")
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    late = []
    last = time.monotonic()
    while not stopped:
        time.sleep(SLEEP_S)
        now = time.monotonic()
        gap_ms = (now - last - SLEEP_S) * 1000
        if gap_ms > PAUSE_MS:
            late.append([round(last + SLEEP_S, 4), round(gap_ms, 1)])
        last = now
    print(json.dumps(late))


def steal_ticks(stat):
    """Clock ticks stolen from this VM's cores by the hypervisor since boot, all cores
    together: the eighth value of the `cpu` line, the first of /proc/stat."""
    return int(stat.split("\n", 1)[0].split()[8])


def steal_seconds():
    """steal_ticks of this machine in seconds, or None when /proc/stat cannot say."""
    try:
        return steal_ticks(Path("/proc/stat").read_text()) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Probes:
    """One probe per core for the duration of a `with` block; `summary()` afterwards."""

    def __enter__(self):
        me = Path(__file__).resolve()
        self.procs = [
            subprocess.Popen([sys.executable, str(me), "--cpu", str(cpu)], stdout=subprocess.PIPE, text=True)
            for cpu in sorted(os.sched_getaffinity(0))
        ]
        self.started = time.monotonic()
        self.steal_before = steal_seconds()
        self.late = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
        steal_after = steal_seconds()
        self.steal = None if None in (self.steal_before, steal_after) else steal_after - self.steal_before
        for proc in self.procs:
            proc.terminate()
        # A probe sleeps 5 ms at a time: it sees SIGTERM at its next wake-up.
        outputs = [proc.communicate(timeout=10)[0] for proc in self.procs]
        # A probe that could not run (no root) printed nothing: no figure rather than 0.
        self.late = [json.loads(out) for out in outputs] if all(outputs) else None
        return False

    def summary(self):
        """Pauses per core (count, longest ms) and those every core shared (count, and
        the longest stretch in which all of them stood still); None when not measured."""
        if self.late is None:
            return None
        cores = [{"pauses": len(late), "longest_ms": max((ms for _, ms in late), default=0.0)}
                 for late in self.late]
        shared = overlaps(self.late)
        return {
            "seconds": round(self.seconds, 1),
            "threshold_ms": PAUSE_MS,
            "cores": cores,
            "all_cores": {"pauses": len(shared), "longest_ms": round(max(shared, default=0.0), 1)},
            "steal_s": None if self.steal is None else round(self.steal, 2),
        }


def overlaps(late):
    """Lengths (ms) of the stretches in which every core was in a pause; overlaps under
    1 ms are the probes' own wake-up jitter and left out."""
    def spans(core):
        return [(start, start + ms / 1000) for start, ms in core]

    shared = spans(late[0]) if late else []
    for core in late[1:]:
        shared = [(max(a, c), min(b, d)) for a, b in shared for c, d in spans(core) if max(a, c) < min(b, d)]
    return [1000 * (b - a) for a, b in shared if 1000 * (b - a) > 1]


def line(summary):
    """One line for a table."""
    if summary is None:
        return "not measured (the probes need root)"
    cores = ", ".join(f"{c['pauses']} (longest {c['longest_ms']:.0f} ms)" for c in summary["cores"])
    shared = summary["all_cores"]
    steal = summary["steal_s"]
    stolen = "" if steal is None else f"; {steal:.2f} CPU s stolen by the hypervisor"
    return (f"{cores}; all cores at once {shared['pauses']} (longest {shared['longest_ms']:.0f} ms)"
            f" in {summary['seconds']:.0f} s{stolen}")


def main():
    """Probes for --seconds and one line of what they saw; with --cpu, one probe."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if args.cpu is not None:
        probe(args.cpu)
        return
    with Probes() as probes:
        time.sleep(args.seconds)
    print(f"machine pauses over {PAUSE_MS:.0f} ms per core: {line(probes.summary())}")


if __name__ == "__main__":
    main()
