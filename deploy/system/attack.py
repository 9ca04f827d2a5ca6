#!/usr/bin/env python3
"""Hostile clients against the native system while k6 drives the original scenario.

    python3 -m deploy.system.attack    (make attack; needs `make up`; from the repository root)

While bench/load.py runs k6/load.js at RATE it/s (300 unless ATTACK_RATE says otherwise),
three floods run from this process, all against 127.0.0.1 only and bounded in count and
time:

- slow bodies: SLOW_CLIENTS connections to heroes, villains and locations, each sending a
  POST head announcing a body, then the body one byte a second (or nothing at all);
- held connections: HOLD_CLIENTS keep-alive connections spread over the four services,
  each sending `GET /q/health/live` every HOLD_EVERY seconds (capped below the open-files
  limit);
- unpaged listings: LISTING_CLIENTS clients asking fights for every fight, one after the
  other.

Then it reports whether the k6 thresholds still passed, the statuses the attacker saw
(408 and 503 among them) and each service's resident set (VmRSS) at rest before, right
after the attack and after IDLE_SECONDS (120) more at rest. The result is also written as
JSON under k6/results/. Ports and the state folder follow deploy/system/system.sh
(HEROES_PORT, VILLAINS_PORT, LOCATIONS_PORT, FIGHTS_PORT, SUPERHEROES_STATE), read through
deploy/system/native.py.
"""
import argparse
import asyncio
import collections
import os
import resource
import sys
import time

if __name__ == "__main__" and not __package__:
    sys.exit("deploy/system/attack.py is a module: run it from the repository root as "
             "`python3 -m deploy.system.attack`")

from bench import load  # noqa: E402  (k6 at a rate, its thresholds, what it cost)
from bench.load_result import table  # noqa: E402
from deploy.system import native  # noqa: E402

HOST = native.HOST
PORTS = native.PORTS
POST_PATHS = {"heroes": "/api/heroes", "villains": "/api/villains", "locations": "/api/locations"}
RATE = int(os.environ.get("ATTACK_RATE", 300))
SLOW_CLIENTS = int(os.environ.get("SLOW_CLIENTS", 300))
HOLD_CLIENTS = int(os.environ.get("HOLD_CLIENTS", 3000))
HOLD_EVERY = float(os.environ.get("HOLD_EVERY", 3))
LISTING_CLIENTS = int(os.environ.get("LISTING_CLIENTS", 8))
# The floods stop at the latest this long after they started, k6 or not.
MAX_SECONDS = float(os.environ.get("ATTACK_MAX_SECONDS", 60))
IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", 120))


def rss_mb(pids):
    """Resident set in MB of every service now, None for one that is gone."""
    out = {}
    for name, pid in pids.items():
        mb = native.rss_mb(pid)
        out[name] = None if mb is None else round(mb, 1)
    return out


async def read_status(reader, timeout):
    """The status of the next answer on `reader` (its head and body read), or None when
    the connection ended first."""
    line = await asyncio.wait_for(reader.readline(), timeout)
    if not line:
        return None
    status = int(line.split()[1])
    length = 0
    while True:
        header = await asyncio.wait_for(reader.readline(), timeout)
        if header in (b"\r\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await asyncio.wait_for(reader.readexactly(length), timeout)
    return status


class Tally:
    """Statuses and connection ends seen by one flood."""

    def __init__(self):
        self.counts = collections.Counter()

    def status(self, status):
        """One answer's status; None is a connection the service closed first."""
        self.counts["closed" if status is None else str(status)] += 1

    def error(self, err):
        """A connection that ended in an exception, counted by its type."""
        self.counts[type(err).__name__] += 1


async def slow_body(service, deadline, stalled, tally):
    """A POST whose body comes one byte a second (or never): the serve loop's body
    deadline and minimum rate should answer 408."""
    try:
        reader, writer = await asyncio.open_connection(HOST, PORTS[service])
    except OSError as err:
        tally.error(err)
        return
    try:
        writer.write(f"POST {POST_PATHS[service]} HTTP/1.1\r\nHost: {HOST}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n".encode())
        await writer.drain()
        answer = asyncio.ensure_future(read_status(reader, MAX_SECONDS))
        while not answer.done() and time.monotonic() < deadline:
            if not stalled:
                writer.write(b" ")
                await writer.drain()
            await asyncio.wait([answer], timeout=1)
        if answer.done():
            tally.status(answer.result())
        else:
            answer.cancel()
            tally.counts["unanswered"] += 1
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as err:
        tally.error(err)
    finally:
        writer.close()


async def held_connection(service, deadline, tally):
    """A keep-alive connection sending a cheap request every few seconds, reconnecting
    when the service closes it."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, PORTS[service])
        except OSError as err:
            tally.error(err)
            await asyncio.sleep(HOLD_EVERY)
            continue
        try:
            while time.monotonic() < deadline:
                writer.write(f"GET /q/health/live HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                await writer.drain()
                status = await read_status(reader, 10)
                tally.status(status)
                if status is None:
                    break
                await asyncio.sleep(HOLD_EVERY)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as err:
            tally.error(err)
        finally:
            writer.close()


async def listings(deadline, tally):
    """Every fight, again and again, read to the end and thrown away."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, PORTS["fights"])
            writer.write(f"GET /api/fights HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 30)
            status = int(line.split()[1]) if line else None
            tally.status(status)
            while await asyncio.wait_for(reader.read(1 << 16), 30):
                pass
            writer.close()
            if status != 200:
                # Asking again at once would mostly measure this process's own CPU,
                # which k6 shares.
                await asyncio.sleep(0.05)
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as err:
            tally.error(err)
            await asyncio.sleep(0.1)


async def floods(k6_done):
    """The three floods until k6 is done or MAX_SECONDS have passed; returns what each
    saw and how many held connections there were."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Room for the slow and listing clients, k6 runs in a process of its own.
    hold = max(0, min(HOLD_CLIENTS, hard - SLOW_CLIENTS - LISTING_CLIENTS - 256))
    deadline = time.monotonic() + MAX_SECONDS
    tallies = {"slow_body": Tally(), "held_connections": Tally(), "listings": Tally()}
    catalogues = list(POST_PATHS)
    services = list(PORTS)
    tasks = [asyncio.ensure_future(slow_body(catalogues[i % 3], deadline, i % 2 == 1,
                                             tallies["slow_body"]))
             for i in range(SLOW_CLIENTS)]
    for i in range(hold):
        tasks.append(asyncio.ensure_future(
            held_connection(services[i % 4], deadline, tallies["held_connections"])))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    tasks += [asyncio.ensure_future(listings(deadline, tallies["listings"]))
              for _ in range(LISTING_CLIENTS)]
    while not k6_done.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {name: dict(t.counts) for name, t in tallies.items()}, hold


async def attack():
    """k6 through bench/load.py beside the floods, and memory before, after and at rest;
    returns the measured LoadResult and the attack's report (the JSON written)."""
    pids = native.service_pids("attack.py")
    idle_before = rss_mb(pids)
    loop = asyncio.get_running_loop()
    host = f"http://{HOST}:{PORTS['fights']}"
    k6 = loop.run_in_executor(None, lambda: load.measure(RATE, host, quiet=True))
    started = resource.getrusage(resource.RUSAGE_SELF)
    seen, hold = await floods(k6)
    result = await k6
    ended = resource.getrusage(resource.RUSAGE_SELF)
    # This process's own CPU, k6 excluded (it runs as a child process, counted by load.py).
    attacker_cpu = (ended.ru_utime + ended.ru_stime) - (started.ru_utime + started.ru_stime)
    after = rss_mb(pids)
    print(f"attack over; {IDLE_SECONDS:.0f} s at rest before the last memory reading", flush=True)
    await asyncio.sleep(IDLE_SECONDS)
    rested = rss_mb(pids)
    return result, {
        "date": result.date,
        "commit": result.commit,
        "rate": RATE,
        "thresholds_pass": result.thresholds_pass,
        # The whole measurement of bench/load.py (CPU seconds per process, fights' own
        # tails), so a failed threshold can be traced to what took the machine.
        "k6": {k: v for k, v in result.to_dict().items() if k not in ("date", "commit", "rate")},
        "attacker_cpu_s": round(attacker_cpu, 2),
        "clients": {"slow_body": SLOW_CLIENTS, "held_connections": hold, "listings": LISTING_CLIENTS},
        "seen": seen,
        "rss_mb": {"idle_before": idle_before, "after_attack": after,
                   f"after_{IDLE_SECONDS:.0f}s_idle": rested},
    }


def main():
    """The attack, its report on stdout and as JSON; exit 1 when k6's thresholds failed."""
    argparse.ArgumentParser(prog="python3 -m deploy.system.attack", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    result, report = asyncio.run(attack())
    rss = report["rss_mb"]
    print(f"k6 at {RATE} it/s under attack: thresholds {'pass' if result.thresholds_pass else 'FAIL'}"
          f" (p95 {result.p95_ms:.1f} ms, errors {result.error_rate:.4f},"
          f" dropped {result.dropped})")
    print(table(result))
    print(f"attacker CPU s: {report['attacker_cpu_s']:.2f}")
    for flood, counts in report["seen"].items():
        print(f"{flood:>17} ({report['clients'][flood]} clients): "
              + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"{'RSS MB':>17}  " + "  ".join(f"{s:>9}" for s in PORTS))
    for moment, values in rss.items():
        print(f"{moment:>17}  " + "  ".join(f"{values.get(s) or 0:>9.1f}" for s in PORTS))
    print(f"written to {load.save(report, 'attack')}")
    sys.exit(0 if report["thresholds_pass"] else 1)


if __name__ == "__main__":
    main()
