#!/usr/bin/env python3
"""Fault scenarios against the native system of `make up` (deploy/system/system.sh up).

While a built-in driver runs fight iterations at a steady rate against fights (as
k6/randomFight.js does: GET randomfighters, GET randomlocation, POST the fight), it
injects one fault per phase:

  heroes-kill9   kill -9 heroes, start it again after 5 s with the same environment
  pg-restart     restart PostgreSQL (pg_ctlcluster --skip-systemctl-redirect VER main restart)
  mongo-stop     stop MongoDB (database/setup.sh mongodb-stop) for 5 s, then start it
  fights-term    SIGTERM fights right after a burst of 200 requests, start it again
                 with the same environment

For each phase it prints status counts per request, fallbacks served (names containing
"Fallback"), and the recovery time: from the end of the fault until the last failed or
fallback iteration. For fights-term it also counts the phase's requests whose bytes were all
sent before the signal and how many of them were answered: a drained shutdown answers
them all. At the end it checks, against MongoDB, that every fight answered 200 is stored (by
id) and that every fight stored during the run was answered 200, per phase, and exits
non-zero if either fails or a request sent before SIGTERM went unanswered.

  python3 -m deploy.system.chaos [--rate 300] [--settle 10] [--phases heroes-kill9,pg-restart,...]

Run from the repository root (make chaos). Needs root (fault injection), the system
running (`make up`) and pymongo. Ports, pid files and process state come from
deploy/system/native.py, moved by the same variables as system.sh.
"""

import argparse
import collections
import datetime
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

if __name__ == "__main__" and not __package__:
    sys.exit("deploy/system/chaos.py is a module: run it from the repository root as "
             "`python3 -m deploy.system.chaos`")

from deploy.system import native  # noqa: E402
from deploy.system.native import HOST, PORTS, alive, pid_of  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = str(native.RUN)
PHASES = ["heroes-kill9", "pg-restart", "mongo-stop", "fights-term"]
FAULT_SECONDS = 5
TIMEOUT = 5.0
# Requests sent at once right before the SIGTERM of fights, so that the signal finds
# requests in flight whatever the driver's rate; half of them POST a fight.
BURST = 200
BURST_FIGHT = json.dumps({
    "hero": {"name": "Burst Hero", "level": 5, "picture": "https://p/h.png", "powers": "drain"},
    "villain": {"name": "Burst Villain", "level": 3, "picture": "https://p/v.png", "powers": "cut"},
    "location": {"name": "Burst City", "description": "d", "picture": "https://p/l.png",
                 "type": "CITY"},
})


def log(msg):
    """One timestamped progress line, flushed: the run is followed live."""
    print(f"==> {time.strftime('%H:%M:%S')} {msg}", flush=True)


# --------------------------------------------------------------------------------------
# Services: pid files of deploy/system/system.sh, restarted with the environment they ran with.


def process_of(name):
    """The command line and environment of the running service, read from /proc."""
    pid = pid_of(name)
    if pid is None or not alive(pid):
        raise SystemExit(f"chaos.py: {name} is not running (no live pid in {RUN}); run `make up`")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(
            kv.decode().split("=", 1) for kv in f.read().split(b"\0") if b"=" in kv
        )
    return pid, argv, env


def start(name, argv, env):
    """Starts a service again as it ran, logging where system.sh logs it, and
    writes its new pid file so that the next phase and `make down` find it."""
    logfile = open(os.path.join(RUN, f"{name}.log"), "ab")
    proc = subprocess.Popen(
        argv, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    with open(os.path.join(RUN, f"{name}.pid"), "w") as f:
        f.write(f"{proc.pid}\n")
    return proc


def ready(name):
    """Whether the service answers 200 on /q/health/ready now."""
    try:
        conn = http.client.HTTPConnection(HOST, PORTS[name], timeout=2)
        conn.request("GET", "/q/health/ready")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def wait_ready(name, seconds=30):
    """Polls ready(name) for up to `seconds`; False (logged) when it never was."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready(name):
            return True
        time.sleep(0.1)
    log(f"{name} not ready after {seconds}s")
    return False


def wait_exit(pid, seconds):
    """Waits up to `seconds` for `pid` to end; True when it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(pid):
        try:  # reap it if it is our child (a service restarted by an earlier phase)
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return not alive(pid)


def run(*cmd):
    """Runs a fault's command, logged, failing the run when it fails."""
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


# --------------------------------------------------------------------------------------
# Load: fight iterations at a steady rate over keep-alive connections.


class Driver:
    """Fight iterations at `rate` a second from `workers` threads, each on its own
    keep-alive connection, tagged with the phase they started in."""
    def __init__(self, rate, workers):
        self.rate = rate
        self.workers = workers
        self.phase = "warmup"
        self.lock = threading.Lock()
        self.next_slot = 0
        self.t0 = None
        self.stopping = threading.Event()
        # per phase: Counter of "request status" -> n
        self.statuses = collections.defaultdict(collections.Counter)
        self.fallbacks = collections.Counter()
        self.iterations = collections.Counter()
        # (start time, phase, ok) of every iteration
        self.timeline = []
        # (time its bytes were all sent, time it ended, "method path", status or error)
        # of every attempt that reached the socket, retries included
        self.attempts = []
        self.fight_ids = []
        self.threads = []
        self.late = 0

    def start(self):
        """Starts the workers; slots are counted from now."""
        self.t0 = time.monotonic()
        for _ in range(self.workers):
            t = threading.Thread(target=self.work, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        """Stops the workers, waiting for the iteration each is in."""
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=TIMEOUT + 2)

    def slot(self):
        """The monotonic time the next iteration is due: one every 1/rate s."""
        with self.lock:
            at = self.t0 + self.next_slot / self.rate
            self.next_slot += 1
        return at

    def work(self):
        """One worker: iterations at their slots until stopped."""
        conn = None
        while not self.stopping.is_set():
            at = self.slot()
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                with self.lock:
                    self.late += 1
            phase = self.phase
            started = time.monotonic()
            conn, ok = self.iteration(conn, phase)
            with self.lock:
                self.iterations[phase] += 1
                self.timeline.append((started, phase, ok))

    def request(self, conn, method, path, body=None):
        """One request, reconnecting once on a dead keep-alive connection."""
        for attempt in (0, 1):
            if conn is None:
                conn = http.client.HTTPConnection(HOST, PORTS["fights"], timeout=TIMEOUT)
            try:
                headers = {"Content-Type": "application/json"} if body else {}
                conn.request(method, path, body=body, headers=headers)
                sent = time.monotonic()
            except (OSError, http.client.HTTPException) as err:
                # Not sent whole (refused, or the connection was closed before).
                conn.close()
                conn = None
                if attempt == 1 or not isinstance(err, (BrokenPipeError, ConnectionResetError)):
                    return None, type(err).__name__, b""
                continue
            try:
                resp = conn.getresponse()
                data = resp.read()
                self.attempt(sent, method, path, resp.status)
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                return conn, resp.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as err:
                self.attempt(sent, method, path, type(err).__name__)
                conn.close()
                conn = None
                if attempt == 1:
                    return None, type(err).__name__, b""
            except (OSError, http.client.HTTPException) as err:
                self.attempt(sent, method, path, type(err).__name__)
                conn.close()
                return None, type(err).__name__, b""
        return conn, "unreachable", b""

    def attempt(self, sent, method, path, outcome):
        """Notes one request that reached the socket and how it ended."""
        with self.lock:
            self.attempts.append((sent, time.monotonic(), f"{method} {path}", outcome))

    def record(self, phase, kind, status):
        """Counts one request's status in its phase."""
        with self.lock:
            self.statuses[phase][f"{kind} {status}"] += 1

    def fallback(self, phase, names):
        """Whether any of `names` is a fallback's; counted in the phase if so."""
        if any("fallback" in str(n).lower() for n in names):
            with self.lock:
                self.fallbacks[phase] += 1
            return True
        return False

    def iteration(self, conn, phase):
        """One fight as k6/randomFight.js makes it; returns the connection and
        whether the iteration succeeded without a fallback."""
        conn, status, data = self.request(conn, "GET", "/api/fights/randomfighters")
        self.record(phase, "fighters", status)
        if status != 200:
            return conn, False
        fighters = json.loads(data)
        fb1 = self.fallback(phase, [fighters["hero"]["name"], fighters["villain"]["name"]])
        conn, status, data = self.request(conn, "GET", "/api/fights/randomlocation")
        self.record(phase, "location", status)
        if status != 200:
            return conn, False
        location = json.loads(data)
        fb2 = self.fallback(phase, [location.get("name")])
        body = json.dumps(
            {"hero": fighters["hero"], "villain": fighters["villain"], "location": location}
        )
        conn, status, data = self.request(conn, "POST", "/api/fights", body)
        self.record(phase, "fight", status)
        if status != 200:
            return conn, False
        fight = json.loads(data)
        with self.lock:
            self.fight_ids.append(fight["id"])
        return conn, not (fb1 or fb2)


# --------------------------------------------------------------------------------------
# Faults: each returns the monotonic time the fault ended (the dependency is back).


def pg_version():
    """The newest PostgreSQL cluster version installed (/etc/postgresql/<version>)."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(x) for x in v.split(".")])
    return versions[-1]


# The running driver, for faults that add requests of their own.
DRIVER = None
# Monotonic time each signal was sent and the process was seen gone, by phase, for the
# count of requests sent before the signal and during the drain.
SIGNALLED = {}
EXITED = {}


def burst(driver, n):
    """Sends `n` requests at once, each on a connection of its own, and returns once all
    are sent whole (at most 2 s): a signal sent then finds them in flight. Each is
    recorded as a driver attempt; the fights answered 200 join the driver's."""
    ready = threading.Barrier(n + 1)
    sent_all = threading.Event()
    count = [0]

    def one(i):
        method, path, body = ("POST", "/api/fights", BURST_FIGHT) if i % 2 else (
            "GET", "/api/fights/randomfighters", None)
        conn = http.client.HTTPConnection(HOST, PORTS["fights"], timeout=TIMEOUT)
        try:
            conn.connect()
        except OSError:
            ready.abort()
            return
        try:
            ready.wait(timeout=5)
        except threading.BrokenBarrierError:
            return
        headers = {"Content-Type": "application/json"} if body else {}
        try:
            conn.request(method, path, body=body, headers=headers)
        except (OSError, http.client.HTTPException):
            return
        sent = time.monotonic()
        with driver.lock:
            count[0] += 1
            if count[0] == n:
                sent_all.set()
        try:
            resp = conn.getresponse()
            data = resp.read()
            driver.attempt(sent, method, path, resp.status)
            if method == "POST" and resp.status == 200:
                with driver.lock:
                    driver.fight_ids.append(json.loads(data)["id"])
        except (OSError, http.client.HTTPException) as err:
            driver.attempt(sent, method, path, type(err).__name__)
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=5)
    except threading.BrokenBarrierError:
        log("burst: not every connection opened")
    sent_all.wait(timeout=2)
    return threads


def restart_service(name, sig, pause, phase, before=None):
    """Signals a service (after `before`, whose threads are joined), waits for it to
    end, starts it again after `pause` s; returns when it is ready again."""
    pid, argv, env = process_of(name)
    pending = before() if before else []
    log(f"{name}: {signal.Signals(sig).name} pid {pid}")
    SIGNALLED[phase] = time.monotonic()
    os.kill(pid, sig)
    if not wait_exit(pid, 15):
        log(f"{name}: still running after 15 s, SIGKILL")
        os.kill(pid, signal.SIGKILL)
        wait_exit(pid, 5)
    EXITED[phase] = time.monotonic()
    log(f"{name}: exited {EXITED[phase] - SIGNALLED[phase]:.2f} s after the signal")
    for t in pending:
        t.join(timeout=TIMEOUT + 2)
    time.sleep(pause)
    proc = start(name, argv, env)
    log(f"{name}: started again, pid {proc.pid}")
    wait_ready(name)
    return time.monotonic()


def fault(phase):
    """Injects the fault of `phase`; returns the monotonic time it ended."""
    if phase == "heroes-kill9":
        return restart_service("heroes", signal.SIGKILL, FAULT_SECONDS, phase)
    if phase == "pg-restart":
        run("pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "restart")
        return time.monotonic()
    if phase == "mongo-stop":
        run(os.path.join(ROOT, "database/setup.sh"), "mongodb-stop")
        time.sleep(FAULT_SECONDS)
        run(os.path.join(ROOT, "database/setup.sh"), "mongodb")
        return time.monotonic()
    if phase == "fights-term":
        return restart_service("fights", signal.SIGTERM, 0, phase, lambda: burst(DRIVER, BURST))
    raise ValueError(phase)


def recovery(driver, phase, fault_end):
    """Seconds from the end of the fault to the last bad iteration of the phase."""
    bad = [t for t, p, ok in driver.timeline if p == phase and not ok and t >= fault_end]
    return max(bad) - fault_end if bad else 0.0


# --------------------------------------------------------------------------------------


def sent_between(driver, since, until, at):
    """Requests sent whole from `since` to `until`: (sent, answered, Counter of the rest,
    answered at or after `at`). Answered means any HTTP status; the rest is EOF, reset or
    timeout."""
    sent = [(end, outcome) for t, end, _, outcome in driver.attempts if since <= t < until]
    unanswered = collections.Counter(o for _, o in sent if not isinstance(o, int))
    late = sum(1 for end, o in sent if isinstance(o, int) and end >= at)
    return len(sent), len(sent) - sum(unanswered.values()), unanswered, late


def fights_collection(env):
    """The Fights collection fights writes to, from fights' own environment."""
    import pymongo

    url = env.get("MONGODB_URL", "mongodb://127.0.0.1:27017")
    name = env.get("MONGODB_DATABASE", "fights")
    return pymongo.MongoClient(url, serverSelectionTimeoutMS=10000)[name]["Fights"]


def unanswered_stored(ids, env, windows):
    """Per phase, (fights stored with a fightDate in its window, of them not answered
    200). `windows` maps a phase to its (start, end) wall-clock seconds."""
    coll = fights_collection(env)
    answered = set(ids)
    # Whole seconds, rounded outwards: the MongoDB stand-in's find compares dates at
    # second granularity; the windows below are exact.
    first = math.floor(min(start for start, _ in windows.values()))
    last = math.ceil(max(end for _, end in windows.values()))
    counts = {phase: [0, 0] for phase in windows}
    query = {
        "fightDate": {
            "$gte": datetime.datetime.fromtimestamp(first, datetime.timezone.utc),
            "$lt": datetime.datetime.fromtimestamp(last, datetime.timezone.utc),
        }
    }
    for doc in coll.find(query, {"_id": 1, "fightDate": 1}):
        at = doc["fightDate"].replace(tzinfo=datetime.timezone.utc).timestamp()
        for phase, (start, end) in windows.items():
            if start <= at < end:
                counts[phase][0] += 1
                counts[phase][1] += str(doc["_id"]) not in answered
    return counts


def verify(ids, env):
    """(unique ids answered, of them found in MongoDB, the missing ones, duplicates
    answered): every fight answered 200 must be stored."""
    from bson import ObjectId

    coll = fights_collection(env)
    unique = sorted(set(ids))
    found = set()
    for i in range(0, len(unique), 1000):
        batch = [ObjectId(x) for x in unique[i : i + 1000]]
        found.update(str(d["_id"]) for d in coll.find({"_id": {"$in": batch}}, {"_id": 1}))
    missing = [x for x in unique if x not in found]
    return len(unique), len(found), missing, len(ids) - len(unique)


def main():
    """The phases under load, then the report; exit 1 on a lost or unreported fight."""
    ap = argparse.ArgumentParser(prog="python3 -m deploy.system.chaos",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=300, help="fight iterations per second")
    ap.add_argument("--workers", type=int, default=128, help="driver threads")
    ap.add_argument("--warmup", type=float, default=5, help="seconds before the first fault")
    ap.add_argument("--settle", type=float, default=10, help="seconds after each fault")
    ap.add_argument("--phases", default=",".join(PHASES))
    args = ap.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    for p in phases:
        if p not in PHASES:
            ap.error(f"unknown phase {p}; known: {', '.join(PHASES)}")

    if not ready("fights"):
        raise SystemExit("chaos.py: fights is not ready on 127.0.0.1:%d; run `make up`" % PORTS["fights"])
    _, _, fights_env = process_of("fights")
    process_of("heroes")

    global DRIVER
    driver = DRIVER = Driver(args.rate, args.workers)
    log(f"driving {args.rate:g} fights/s with {args.workers} threads")
    # Wall-clock start of each phase, to attribute stored fights by their fightDate.
    walls = {"warmup": time.time()}
    driver.start()
    time.sleep(args.warmup)
    ends = {}
    started = {}
    try:
        for phase in phases:
            driver.phase = phase
            walls[phase] = time.time()
            started[phase] = time.monotonic()
            log(f"phase {phase}")
            # Iterations of the previous phase finish before this fault, so that none
            # of its failures is counted against the previous phase's recovery.
            time.sleep(1)
            ends[phase] = fault(phase)
            time.sleep(args.settle)
        driver.phase = "after"
        walls["after"] = time.time()
        time.sleep(2)
    finally:
        driver.stop()
    # Fights answered after the driver stopped are stamped before this.
    walls["end"] = time.time()

    elapsed = time.monotonic() - driver.t0
    total = sum(driver.iterations.values())
    print()
    print(f"{total} iterations in {elapsed:.1f} s ({total / elapsed:.0f}/s, target {args.rate:g}/s)"
          + (f", {driver.late} started over 1 s late" if driver.late else ""))
    print()
    header = f"{'phase':<14} {'iter':>6} {'fallback':>8} {'recovery s':>10}  statuses"
    print(header)
    print("-" * len(header))
    for phase in ["warmup"] + phases + ["after"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(driver.statuses[phase].items()))
        rec = f"{recovery(driver, phase, ends[phase]):.2f}" if phase in ends else "-"
        print(f"{phase:<14} {driver.iterations[phase]:>6} {driver.fallbacks[phase]:>8} {rec:>10}  {statuses}")

    failed = False
    for phase in phases:
        if phase not in SIGNALLED or phase != "fights-term":
            continue
        at = SIGNALLED[phase]
        sent, answered, unanswered, in_flight = sent_between(driver, started[phase], at, at)
        rest = ", ".join(f"{k}: {v}" for k, v in sorted(unanswered.items())) or "none"
        print()
        print(f"{phase}: requests sent in the phase before the signal: {sent}; answered: {answered}"
              f" ({in_flight} of them after it); unanswered: {rest}")
        failed |= bool(unanswered)
        sent, answered, unanswered, _ = sent_between(driver, at, EXITED[phase], at)
        rest = ", ".join(f"{k}: {v}" for k, v in sorted(unanswered.items())) or "none"
        print(f"{phase}: sent after the signal until it exited: {sent}; answered: {answered};"
              f" unanswered (a connection it had closed): {rest}")

    answered, stored, missing, dup = verify(driver.fight_ids, fights_env)
    print()
    print(f"fights answered 200: {answered}; stored in MongoDB: {stored}; missing: {len(missing)}"
          + (f"; duplicate ids answered: {dup}" if dup else ""))
    if missing:
        print("missing ids: " + " ".join(missing[:50]) + (" ..." if len(missing) > 50 else ""))
    order = ["warmup"] + phases + ["after", "end"]
    windows = {p: (walls[p], walls[order[i + 1]]) for i, p in enumerate(order[:-1])}
    counts = unanswered_stored(driver.fight_ids, fights_env, windows)
    print("fights stored, by phase of their fightDate (of them not answered 200): "
          + ", ".join(f"{p} {counts[p][0]} ({counts[p][1]})" for p in order[:-1]))
    unanswered_total = sum(n for _, n in counts.values())
    if missing or dup or unanswered_total:
        failed = True
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
