"""The sweep of bench/load.py as one picture: p95 and p99 latency (log scale, left) and
service CPU per iteration (right) against the rate, failed runs hollow, dropped
iterations marked. Hand-built SVG, so the harness needs nothing beyond Python.

    python3 -m bench.sweep_chart k6/results/sweep-runs-<date>.json > bench/sweep.svg   (redraw)
"""
import json
import math
import sys
from html import escape

if __name__ == "__main__" and not __package__:
    sys.exit("bench/sweep_chart.py is a module: run it from the repository root as "
             "`python3 -m bench.sweep_chart`")

from bench.load_result import LoadResult  # noqa: E402

# The p95 threshold of k6/load.js, drawn as a line.
P95_LIMIT_MS = 500
WIDTH, HEIGHT = 760, 450
LEFT, RIGHT, TOP, BOTTOM = 70, 84, 96, 56
P95, P99, CPU, FAIL, INK, GRID = "#1f6fd1", "#7b3fc4", "#d07a00", "#c62828", "#222", "#ddd"


def nice_step(span, ticks=5):
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` intervals."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def text(x, y, content, anchor="middle", size=12, color=INK, weight="normal"):
    """An SVG <text>, its content escaped."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}" fill="{color}">{escape(str(content))}</text>')


def polyline(points, color, dash=""):
    """An SVG line through `points`; nothing for fewer than two, which draw no line."""
    if len(points) < 2:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dashes}/>'


def svg(rows, caption):
    """The chart of `rows` (LoadResults of bench/load.py, in any order) as SVG text."""
    rows = sorted((r for r in rows if r.rate), key=lambda r: r.rate)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" role="img">',
           "<title>Load sweep: latency and service CPU per iteration against rate</title>",
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
           text(LEFT, 24, "Latency and service CPU per iteration against rate", "start", 16, weight="bold"),
           text(LEFT, 44, caption, "start", 12, "#555")]
    if not rows:
        out += [text(WIDTH / 2, HEIGHT / 2, "no runs"), "</svg>"]
        return "\n".join(out)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP

    # Rate axis from 0; latency axis in decades covering every value and the p95 limit;
    # CPU axis from 0.
    rate_step = nice_step(max(r.rate for r in rows))
    rate_max = rate_step * math.ceil(max(r.rate for r in rows) * 1.05 / rate_step)
    latencies = [v for r in rows for v in (r.p95_ms, r.p99_ms) if v and v > 0]
    low = 10 ** math.floor(math.log10(min(latencies + [P95_LIMIT_MS])))
    high = 10 ** math.ceil(math.log10(max(latencies + [P95_LIMIT_MS]) * 1.01))
    cpus = [r.service_cpu_ms_per_iteration for r in rows if r.service_cpu_ms_per_iteration]
    cpu_step = nice_step(max(cpus) * 1.1) if cpus else 0.25
    cpu_max = cpu_step * math.ceil(max(cpus + [cpu_step]) * 1.1 / cpu_step)

    def sx(rate):
        return x0 + (x1 - x0) * rate / rate_max

    def sy_latency(ms):
        ms = min(max(ms, low), high)
        return y0 - (y0 - y1) * (math.log10(ms) - math.log10(low)) / (math.log10(high) - math.log10(low))

    def sy_cpu(ms):
        return y0 - (y0 - y1) * ms / cpu_max

    decade = low
    while decade <= high:
        y = sy_latency(decade)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(text(x0 - 8, y + 4, f"{decade:g}", "end"))
        decade *= 10
    for i in range(int(round(cpu_max / cpu_step)) + 1):
        out.append(text(x1 + 8, sy_cpu(i * cpu_step) + 4, f"{i * cpu_step:g}", "start", color=CPU))
    for i in range(int(rate_max // rate_step) + 1):
        x = sx(i * rate_step)
        out.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + 5}" stroke="{INK}"/>')
        out.append(text(x, y0 + 19, f"{i * rate_step:g}"))
    out.append(f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" stroke="{INK}"/>')
    limit = sy_latency(P95_LIMIT_MS)
    out.append(f'<line x1="{x0}" y1="{limit:.1f}" x2="{x1}" y2="{limit:.1f}" stroke="{FAIL}" stroke-dasharray="6 4"/>')
    out.append(text(x0 + 6, limit - 5, f"p95 limit {P95_LIMIT_MS} ms", "start", 11, FAIL))
    out.append(text((x0 + x1) / 2, HEIGHT - 14, "rate (iterations/s)"))
    out.append(f'<g transform="translate(18 {(y0 + y1) / 2:.0f}) rotate(-90)">{text(0, 0, "latency ms (log scale)")}</g>')
    out.append(f'<g transform="translate({WIDTH - 16} {(y0 + y1) / 2:.0f}) rotate(90)">'
               f'{text(0, 0, "service CPU ms / iteration", color=CPU)}</g>')

    series = [("p95", "p95_ms", P95, "", sy_latency), ("p99", "p99_ms", P99, "5 3", sy_latency),
              ("CPU", "service_cpu_ms_per_iteration", CPU, "", sy_cpu)]
    for _, key, color, dash, scale in series:
        points = [(sx(r.rate), scale(getattr(r, key)), r) for r in rows if getattr(r, key)]
        out.append(polyline([(x, y) for x, y, _ in points], color, dash))
        for x, y, r in points:
            fill = color if r.thresholds_pass else "#fff"
            shape = (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"' if key.startswith("service")
                     else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5"')
            out.append(f'{shape} fill="{fill}" stroke="{color}" stroke-width="2"/>')
    for r in rows:
        if r.dropped:
            x = sx(r.rate)
            out.append(f'<path d="M{x - 6:.1f},{y1 + 2} L{x + 6:.1f},{y1 + 2} L{x:.1f},{y1 + 12} Z" fill="{FAIL}"/>')
            out.append(text(x, y1 - 4, f"{r.dropped} dropped", size=11, color=FAIL))

    legend = [("p95", P95, ""), ("p99", P99, "5 3"), ("service CPU / iteration", CPU, "")]
    lx = LEFT
    for label, color, dash in legend:
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{lx}" y1="60" x2="{lx + 22}" y2="60" stroke="{color}" stroke-width="2"{dashes}/>')
        out.append(text(lx + 28, 64, label, "start", 12))
        lx += 40 + 7 * len(label)
    out.append(f'<circle cx="{lx + 5}" cy="60" r="4.5" fill="#fff" stroke="{INK}" stroke-width="2"/>')
    out.append(text(lx + 14, 64, "failed thresholds", "start", 12))
    out.append("</svg>")
    return "\n".join(out)


def caption(rows):
    """Where the chart comes from: the command, and the commit and date of its last run."""
    if not rows:
        return "make sweep (bench/load.py sweep) at commit ?, ?"
    last = max(rows, key=lambda r: r.date)
    return f"make sweep (bench/load.py sweep) at commit {last.commit}, {last.date}"


def read_runs(paths):
    """The runs of every sweep-runs-<date>.json file in `paths`, as LoadResults."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs += [LoadResult.from_dict(row) for row in json.load(f)]
    return runs


def main():
    """Redraws the chart of the given sweep-runs files on stdout."""
    runs = read_runs(sys.argv[1:])
    print(svg(runs, caption(runs)))


if __name__ == "__main__":
    main()
