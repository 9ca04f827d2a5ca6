"""The native system of `make up` (deploy/system/system.sh) as the Python tools see it:
its services and their ports, its state folder and pid files, its database processes, and
the /proc readers for them (CPU time, clock ticks, resident memory).

The same environment variables as system.sh move it: HEROES_PORT, VILLAINS_PORT,
LOCATIONS_PORT, FIGHTS_PORT and SUPERHEROES_STATE. The parsers take the text of a /proc
file, so they are tested without a running process.
"""

import os
import sys
from pathlib import Path

HOST = "127.0.0.1"
# In the order system.sh starts them: fights last, after the catalogues it asks.
SERVICES = ("heroes", "villains", "locations", "fights")
DEFAULT_PORTS = {"heroes": 8001, "villains": 8002, "locations": 8003, "fights": 8004}
DEFAULT_STATE = "/tmp/superheroes"
# Database processes by the start of /proc/<pid>/comm, or for the MongoDB stand-in
# (named by its port) anywhere in the command line.
DATABASES = {"postgres": "postgres", "mariadbd": "mariadb", "nx-27017": "mongodb"}
CMDLINE_DATABASES = {"nx-27017"}


def ports(environ=os.environ):
    """Port of every service: system.sh's defaults unless `<SERVICE>_PORT` is set."""
    return {name: int(environ.get(f"{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()}


def state_dir(environ=os.environ):
    """The folder holding run/<service>.pid and the logs (SUPERHEROES_STATE)."""
    return Path(environ.get("SUPERHEROES_STATE", DEFAULT_STATE))


PORTS = ports()
STATE = state_dir()
RUN = STATE / "run"


def url(service, path=""):
    """http://127.0.0.1:<port of `service`><path>."""
    return f"http://{HOST}:{PORTS[service]}{path}"


def pid_of(name):
    """The pid system.sh wrote for `name`, or None when there is no readable pid file."""
    try:
        return int((RUN / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------- /proc parsers
def stat_fields(text):
    """The fields of a /proc/<pid>/stat line after the command name, which is in
    parentheses and may itself hold spaces and `)`: field 3 (the state) comes first."""
    return text.rsplit(")", 1)[1].split()


def stat_state(text):
    """The one-letter state of a /proc/<pid>/stat line (R, S, Z, ...)."""
    return stat_fields(text)[0]


def stat_ticks(text):
    """(utime, stime) of a /proc/<pid>/stat line: fields 14 and 15, in clock ticks."""
    fields = stat_fields(text)
    return int(fields[11]), int(fields[12])


def schedstat_ns(text):
    """Nanoseconds on a CPU from a /proc/<pid>/task/<tid>/schedstat line (its first value)."""
    return int(text.split()[0])


def status_kb(text, field):
    """The value in kB of one field (`VmHWM`, `VmRSS`) of /proc/<pid>/status, or None."""
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def ticks_to_seconds(ticks, hz=None):
    """Clock ticks as seconds, at the kernel's USER_HZ unless `hz` is given."""
    return ticks / (hz or os.sysconf("SC_CLK_TCK"))


def database_kind(comm, cmdline):
    """Which database a process is ("postgres", "mariadb", "mongodb"), or None."""
    for needle, kind in DATABASES.items():
        if comm.startswith(needle) or (needle in CMDLINE_DATABASES and needle in cmdline):
            return kind
    return None


# ---------------------------------------------------------------------- /proc readers
def alive(pid):
    """Whether `pid` runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        return stat_state(Path(f"/proc/{pid}/stat").read_text()) != "Z"
    except (OSError, IndexError):
        return False


def cpu_seconds(pid):
    """CPU time of one process, summed over its threads, or None when it is gone.

    From /proc/<pid>/task/*/schedstat, which the scheduler keeps in nanoseconds; the
    utime and stime of /proc/<pid>/stat are sampled at each clock tick, too coarse for
    a few seconds of a service that runs tens of microseconds at a time."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return None
    total = 0
    for task in tasks:
        try:
            total += schedstat_ns((task / "schedstat").read_text())
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return total / 1e9


def kernel_ticks(pid):
    """(user, kernel) clock ticks of one process: sampled, so good for the share of
    kernel time over a run, not for the total. (0, 0) when the process is gone."""
    try:
        return stat_ticks(Path(f"/proc/{pid}/stat").read_text())
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return (0, 0)


def status_mb(pid, field):
    """One kB field of /proc/<pid>/status in MB, or None when the process is gone."""
    try:
        kb = status_kb(Path(f"/proc/{pid}/status").read_text(), field)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if kb is None else kb / 1024


def peak_rss_mb(pid):
    """The highest resident set of the process so far (VmHWM), in MB."""
    return status_mb(pid, "VmHWM")


def rss_mb(pid):
    """The resident set of the process now (VmRSS), in MB."""
    return status_mb(pid, "VmRSS")


def service_pids(tool):
    """pid of every service, or exit with a message naming `tool` when one is not
    running: every measurement of the native system needs all four."""
    pids = {}
    for name in SERVICES:
        pid = pid_of(name)
        if pid is None:
            sys.exit(f"{tool}: {name} is not running: start the system with `make up`")
        if cpu_seconds(pid) is None:
            sys.exit(f"{tool}: {name} (pid {pid}) is gone: start the system with `make up`")
        pids[name] = pid
    return pids


def database_pids():
    """pids of every database process, by kind ("postgres", "mariadb", "mongodb")."""
    found = {kind: [] for kind in DATABASES.values()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        kind = database_kind(comm, cmd)
        if kind:
            found[kind].append(int(entry.name))
    return found
