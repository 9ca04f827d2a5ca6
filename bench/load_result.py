"""What one load run of bench/load.py produces (`LoadResult`), how it is read from k6's
summaries and from the JSON files under k6/results/, and how it is printed.

Readers: bench/load.py (its table, the sweep), bench/sweep_chart.py (the chart) and
deploy/system/attack.py (the run under attack). The JSON of a run is `LoadResult.to_dict()`,
keys in field order; `from_dict` reads it back, older files with fewer keys included.
"""

from dataclasses import asdict, dataclass, field, fields

from bench import pauses

# When `run --stop-k6-ms` stops k6: inside the 20 s at the full rate.
STOP_AT_S = 15.0


@dataclass
class Tail:
    """What one of fights' histograms saw during a run: bucket bounds, not exact values."""

    count: int
    p99_le_ms: float
    max_le_ms: float


@dataclass
class ProbeResult:
    """k6's view of the GETs `run --probe` made beside the load; only `url` and `error`
    when k6 measured nothing."""

    url: str
    error: str | None = None
    requests: int = 0
    med_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    failed_rate: float = 0.0
    dropped: int = 0
    thresholds_pass: bool = False
    k6_cpu_s: float = 0.0

    @classmethod
    def from_summary_export(cls, url, summary, exit_code, k6_cpu_s):
        """From a `k6 run --summary-export` file (metrics without a `values` level)."""
        m = summary["metrics"]
        dur = m.get("http_req_duration", {})
        if dur.get("p(99)") is None:
            return cls(url, error="k6 timed no request")
        return cls(
            url=url,
            requests=int(m.get("http_reqs", {}).get("count", 0)),
            med_ms=dur.get("med"),
            p99_ms=dur.get("p(99)"),
            max_ms=dur.get("max"),
            failed_rate=m.get("http_req_failed", {}).get("value", 0.0),
            dropped=int(m.get("dropped_iterations", {}).get("count", 0)),
            thresholds_pass=exit_code == 0,
            k6_cpu_s=k6_cpu_s,
        )

    def to_dict(self):
        """The error form keeps only url and error, as a reader tells the two apart by it."""
        if self.error:
            return {"url": self.url, "error": self.error}
        return {k: v for k, v in asdict(self).items() if k != "error"}


@dataclass
class K6Figures:
    """The part of a run k6 measures, read from its end-of-test summary."""

    iterations: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    iteration_p99_ms: float | None
    iteration_max_ms: float | None
    vus_max: int
    error_rate: float
    checks_failed: int
    dropped: int
    thresholds_pass: bool


def k6_figures(summary, exit_code):
    """Figures of k6/load.js's handleSummary JSON (each metric's figures under `values`).
    The thresholds pass only when every threshold is ok *and* k6 exited 0: k6 also exits
    non-zero when it aborts, with thresholds it never judged."""
    m = summary["metrics"]
    dur = m["http_req_duration"]["values"]
    iteration = m.get("iteration_duration", {}).get("values", {})
    thresholds_ok = all(
        t.get("ok", False) for metric in m.values() for t in metric.get("thresholds", {}).values()
    )
    return K6Figures(
        iterations=int(m.get("iterations", {}).get("values", {}).get("count", 0)),
        p50_ms=dur.get("med"),
        p95_ms=dur.get("p(95)"),
        p99_ms=dur.get("p(99)"),
        max_ms=dur.get("max"),
        iteration_p99_ms=iteration.get("p(99)"),
        iteration_max_ms=iteration.get("max"),
        vus_max=int(m.get("vus_max", {}).get("values", {}).get("max", 0)),
        error_rate=m.get("http_req_failed", {}).get("values", {}).get("rate", 0.0),
        checks_failed=m.get("checks", {}).get("values", {}).get("fails", 0),
        dropped=int(m.get("dropped_iterations", {}).get("values", {}).get("count", 0)),
        thresholds_pass=thresholds_ok and exit_code == 0,
    )


@dataclass
class LoadResult:
    """One k6 run of k6/load.js at `rate` against the native system, with what every
    process spent on it. Latencies in ms; `cpu_s` per service, database kind and k6."""

    date: str
    commit: str
    rate: int
    duration_s: float
    iterations: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    # k6's own view of an iteration (its three requests and its script): the original
    # scenario drops an iteration when all its virtual users are inside one.
    iteration_p99_ms: float | None = None
    iteration_max_ms: float | None = None
    vus_max: int = 0
    fights_tails: dict[str, Tail] = field(default_factory=dict)
    error_rate: float = 0.0
    checks_failed: int = 0
    dropped: int = 0
    thresholds_pass: bool = False
    cpu_s: dict[str, float] = field(default_factory=dict)
    service_cpu_ms_per_iteration: float | None = None
    service_kernel_share: float | None = None
    peak_rss_mb: dict[str, float | None] = field(default_factory=dict)
    # bench/pauses.py Probes.summary(), None when the probes could not run.
    machine_pauses: dict | None = None
    k6_stopped_ms: float = 0
    probe: ProbeResult | None = None

    def to_dict(self):
        """The JSON form written under k6/results/."""
        out = asdict(self)
        out["probe"] = self.probe.to_dict() if self.probe else None
        return out

    @classmethod
    def from_dict(cls, row):
        """A run read back from its JSON; keys it does not know are left out."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in known}
        values["fights_tails"] = {name: Tail(**t) for name, t in (row.get("fights_tails") or {}).items()}
        probe = row.get("probe")
        values["probe"] = ProbeResult(**probe) if probe else None
        return cls(**values)


def per_iteration_ms(cpu_seconds, iterations):
    """CPU ms per iteration, or None when no iteration ran (nothing to divide by)."""
    return 1000 * cpu_seconds / iterations if iterations else None


def kernel_share(ticks_before, ticks_after):
    """The share of kernel time in the (user, kernel) ticks spent between two samples of
    the same processes, or None when no tick was spent."""
    user = sum(t[0] for t in ticks_after) - sum(t[0] for t in ticks_before)
    kernel = sum(t[1] for t in ticks_after) - sum(t[1] for t in ticks_before)
    return kernel / (user + kernel) if user + kernel else None


def table(r):
    """The run as a two-column text table, one figure a row."""
    rows = [
        ("rate (it/s)", r.rate),
        ("iterations", r.iterations),
        ("p50 / p95 / p99 / max (ms)",
         f"{r.p50_ms:.2f} / {r.p95_ms:.2f} / {r.p99_ms:.2f} / {r.max_ms:.2f}"),
        ("iteration p99 / max (ms)", f"{r.iteration_p99_ms or 0:.2f} / {r.iteration_max_ms or 0:.2f}"),
        ("virtual users allocated", r.vus_max),
        ("error rate", f"{100 * r.error_rate:.3f} %"),
        ("checks failed", r.checks_failed),
        ("dropped iterations", r.dropped),
        ("thresholds", "pass" if r.thresholds_pass else "FAIL"),
    ]
    rows += [(f"CPU s {name}", f"{sec:.2f}") for name, sec in r.cpu_s.items()]
    per_it = r.service_cpu_ms_per_iteration
    rows.append(("service CPU ms / iteration", f"{per_it:.3f}" if per_it is not None else "-"))
    share = r.service_kernel_share
    rows.append(("  of it in the kernel", f"{100 * share:.0f} %" if share is not None else "-"))
    rows += [(f"peak RSS MB {n}", f"{mb:.1f}") for n, mb in r.peak_rss_mb.items() if mb]
    rows.append((f"machine pauses over {pauses.PAUSE_MS:.0f} ms per core", pauses.line(r.machine_pauses)))
    if r.k6_stopped_ms:
        rows.append(("k6 stopped on purpose", f"{r.k6_stopped_ms:g} ms, {STOP_AT_S:g} s into the run"))
    probe = r.probe
    if probe and probe.error:
        rows.append((f"probe {probe.url}", probe.error))
    elif probe:
        rows.append((f"probe {probe.url}",
                     f"n {probe.requests}, med {probe.med_ms:.2f} / p99 {probe.p99_ms:.2f} / "
                     f"max {probe.max_ms:.2f} ms, {100 * probe.failed_rate:.2f} % failed, "
                     f"{probe.dropped} dropped, its k6 {probe.k6_cpu_s:.2f} CPU s"))
    # fights' own histograms: where the tail of an iteration comes from.
    for name, t in r.fights_tails.items():
        rows.append((f"fights {name}",
                     f"n {t.count}, p99 <= {t.p99_le_ms:g} ms, max <= {t.max_le_ms:g} ms"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def sweep_line(r):
    """One line per run of a sweep, printed as it ends."""
    return (f"sweep: {r.rate} it/s -> {'pass' if r.thresholds_pass else 'FAIL'} "
            f"(p95 {r.p95_ms:.2f} ms, errors {100 * r.error_rate:.3f} %, dropped {r.dropped}, "
            f"service CPU {r.service_cpu_ms_per_iteration or 0:.3f} ms/it)")
