#!/usr/bin/env python3
"""Hostile clients against the native system while k6 drives the original scenario.

    deploy/system/attack.py            (make attack; needs `make up`)

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
JSON under k6/results/. Ports follow deploy/system/system.sh: HEROES_PORT, VILLAINS_PORT,
LOCATIONS_PORT, FIGHTS_PORT, and the state folder SUPERHEROES_STATE.
"""
import asyncio
import collections
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "bench"))
import load  # noqa: E402  (bench/load.py: k6, its thresholds, the services' pids)

HOST = "127.0.0.1"
PORTS = {
    "heroes": int(os.environ.get("HEROES_PORT", 8001)),
    "villains": int(os.environ.get("VILLAINS_PORT", 8002)),
    "locations": int(os.environ.get("LOCATIONS_PORT", 8003)),
    "fights": int(os.environ.get("FIGHTS_PORT", 8004)),
}
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
    out = {}
    for name, pid in pids.items():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[name] = round(int(line.split()[1]) / 1024, 1)
        except FileNotFoundError:
            out[name] = None
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
        self.counts["closed" if status is None else str(status)] += 1

    def error(self, err):
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
    pids = load.service_pids()
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
    return {
        "date": result["date"],
        "commit": result["commit"],
        "rate": RATE,
        "thresholds_pass": result["thresholds_pass"],
        # The whole measurement of bench/load.py (CPU seconds per process, fights' own
        # tails), so a failed threshold can be traced to what took the machine.
        "k6": {k: v for k, v in result.items() if k not in ("date", "commit", "rate")},
        "attacker_cpu_s": round(attacker_cpu, 2),
        "clients": {"slow_body": SLOW_CLIENTS, "held_connections": hold, "listings": LISTING_CLIENTS},
        "seen": seen,
        "rss_mb": {"idle_before": idle_before, "after_attack": after,
                   f"after_{IDLE_SECONDS:.0f}s_idle": rested},
    }


def main():
    report = asyncio.run(attack())
    rss = report["rss_mb"]
    print(f"k6 at {RATE} it/s under attack: thresholds {'pass' if report['thresholds_pass'] else 'FAIL'}"
          f" (p95 {report['k6']['p95_ms']:.1f} ms, errors {report['k6']['error_rate']:.4f},"
          f" dropped {report['k6']['dropped']})")
    print(load.table({"rate": RATE, **report["k6"]}))
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
