"""Unit tests of the load harness's arithmetic and parsing: k6 summaries, CPU accounting,
fights' histogram tails, the sweep's bisection, the result's JSON, the chart and the
machine-pause probes' figures. No k6, no running system.

    python3 -m unittest discover -s bench -p 'test_*.py'      (from the repository root)
"""

import json
import unittest
from pathlib import Path
from unittest import mock

from bench import load, pauses, sweep_chart
from bench.load_result import (LoadResult, ProbeResult, Tail, k6_figures, kernel_share,
                               per_iteration_ms, sweep_line, table)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def result(rate=500, passes=True, **figures):
    """A LoadResult with plausible figures, any of them overridden."""
    values = dict(date="2024-01-02T03:04:05Z", commit="abc1234", rate=rate, duration_s=31.0,
                  iterations=15 * rate, p50_ms=2.0, p95_ms=5.0, p99_ms=9.0, max_ms=40.0,
                  thresholds_pass=passes, cpu_s={"fights": 3.0, "k6": 4.0},
                  service_cpu_ms_per_iteration=0.5, peak_rss_mb={"fights": 12.5})
    values.update(figures)
    return LoadResult(**values)


class K6SummaryTest(unittest.TestCase):
    def test_reads_the_figures_of_the_handle_summary_json(self):
        k6 = k6_figures(fixture("k6-summary.json"), exit_code=0)
        self.assertEqual(k6.iterations, 1500)
        self.assertEqual((k6.p50_ms, k6.p95_ms, k6.p99_ms, k6.max_ms), (2.5, 6.25, 12.5, 41.2))
        self.assertEqual((k6.iteration_p99_ms, k6.iteration_max_ms), (30.25, 60.5))
        self.assertEqual(k6.vus_max, 20)
        self.assertEqual(k6.error_rate, 0.0005)
        self.assertEqual(k6.checks_failed, 2)
        self.assertEqual(k6.dropped, 0)
        self.assertTrue(k6.thresholds_pass)

    def test_one_failed_threshold_fails_the_run(self):
        summary = fixture("k6-summary.json")
        summary["metrics"]["dropped_iterations"]["thresholds"]["count==0"]["ok"] = False
        self.assertFalse(k6_figures(summary, exit_code=0).thresholds_pass)

    def test_a_non_zero_exit_fails_the_run_even_with_every_threshold_ok(self):
        self.assertFalse(k6_figures(fixture("k6-summary.json"), exit_code=99).thresholds_pass)

    def test_metrics_k6_left_out_read_as_zero_or_none(self):
        summary = {"metrics": {"http_req_duration": {"values": {"med": 1.0}}}}
        k6 = k6_figures(summary, exit_code=0)
        self.assertEqual((k6.iterations, k6.vus_max, k6.dropped, k6.error_rate), (0, 0, 0, 0.0))
        self.assertIsNone(k6.p95_ms)
        self.assertIsNone(k6.iteration_p99_ms)
        self.assertTrue(k6.thresholds_pass)


class ProbeResultTest(unittest.TestCase):
    def test_reads_a_summary_export(self):
        probe = ProbeResult.from_summary_export("http://h/api/fights/stats",
                                                fixture("k6-summary-export.json"), 0, 1.25)
        self.assertIsNone(probe.error)
        self.assertEqual(probe.requests, 440)
        self.assertEqual((probe.med_ms, probe.p99_ms, probe.max_ms), (1.5, 4.75, 9.5))
        self.assertEqual(probe.failed_rate, 0)
        self.assertEqual(probe.dropped, 1)
        self.assertTrue(probe.thresholds_pass)
        self.assertEqual(probe.k6_cpu_s, 1.25)

    def test_no_timed_request_is_an_error_with_the_url_only(self):
        probe = ProbeResult.from_summary_export("http://h/x", {"metrics": {}}, 0, 0.5)
        self.assertEqual(probe.to_dict(), {"url": "http://h/x", "error": "k6 timed no request"})


class CpuAccountingTest(unittest.TestCase):
    def test_service_cpu_per_iteration_is_in_milliseconds(self):
        self.assertAlmostEqual(per_iteration_ms(3.0, 1500), 2.0)

    def test_no_iteration_gives_no_figure(self):
        self.assertIsNone(per_iteration_ms(3.0, 0))

    def test_kernel_share_of_the_ticks_spent_between_two_samples(self):
        before = [(100, 50), (10, 10)]
        after = [(160, 70), (30, 20)]  # 80 user and 30 kernel ticks spent
        self.assertAlmostEqual(kernel_share(before, after), 30 / 110)

    def test_kernel_share_without_ticks_is_none(self):
        self.assertIsNone(kernel_share([(5, 5)], [(5, 5)]))

    def test_database_delta_counts_new_processes_whole(self):
        before = {"postgres": {10: 1.0, 11: 2.0}, "mongodb": {}}
        after = {"postgres": {10: 1.5, 11: 2.25, 12: 0.5}, "mongodb": {20: 0.75}}
        self.assertEqual(load.database_delta(before, after), {"postgres": 1.25, "mongodb": 0.75})


METRICS_BEFORE = """# TYPE fights_request_seconds histogram
fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.001"} 10
fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.01"} 20
fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.1"} 20
fights_request_seconds_bucket{endpoint="POST /api/fights",le="+Inf"} 20
fights_request_seconds_count{endpoint="POST /api/fights"} 20
"""
METRICS_AFTER = """fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.001"} 900
fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.01"} 1015
fights_request_seconds_bucket{endpoint="POST /api/fights",le="0.1"} 1020
fights_request_seconds_bucket{endpoint="POST /api/fights",le="+Inf"} 1020
fights_idle_seconds_bucket{le="1"} 0
fights_idle_seconds_bucket{le="+Inf"} 0
"""


class HistogramTest(unittest.TestCase):
    def test_parses_buckets_by_family_and_labels_without_le(self):
        found = load.parse_histograms(METRICS_BEFORE)
        key = ("fights_request_seconds", 'endpoint="POST /api/fights"')
        self.assertEqual(list(found), [key])
        self.assertEqual(found[key][0], (0.001, 10.0))
        self.assertEqual(found[key][-1], (float("inf"), 20.0))

    def test_tails_of_what_happened_between_two_scrapes(self):
        rows = load.tails(load.parse_histograms(METRICS_BEFORE), load.parse_histograms(METRICS_AFTER))
        # 1000 observations in between: 890 under 1 ms, 995 under 10 ms, all under 100 ms.
        self.assertEqual(rows, {'fights_request_seconds{endpoint="POST /api/fights"}': Tail(1000, 10.0, 100.0)})


class SweepTest(unittest.TestCase):
    @staticmethod
    def fake(highest_passing):
        """A measurement passing up to `highest_passing` it/s, and the rates it was asked."""
        asked = []

        def measure_at(rate):
            asked.append(rate)
            return result(rate, passes=rate <= highest_passing)

        return measure_at, asked

    def test_doubles_then_bisects_to_within_a_tenth(self):
        measure_at, asked = self.fake(1234)
        seen = []
        passed, runs = load.sweep(measure_at, 500, 8000, seen.append)
        self.assertEqual(asked, [500, 1000, 2000, 1500, 1250, 1125, 1187])
        self.assertEqual(passed.rate, 1187)
        self.assertEqual([r.rate for r in runs], asked)
        self.assertEqual(seen, runs)

    def test_bisection_stops_at_50_it_s_for_low_rates(self):
        measure_at, asked = self.fake(140)
        passed, _ = load.sweep(measure_at, 100, 8000)
        self.assertEqual(asked, [100, 200, 150])
        self.assertEqual(passed.rate, 100)

    def test_a_failing_start_gives_no_passing_rate(self):
        measure_at, asked = self.fake(100)
        passed, runs = load.sweep(measure_at, 500, 8000)
        self.assertIsNone(passed)
        self.assertEqual(asked, [500])
        self.assertEqual(len(runs), 1)

    def test_stops_at_the_highest_rate_when_everything_passes(self):
        measure_at, asked = self.fake(10**6)
        passed, _ = load.sweep(measure_at, 500, 3000)
        self.assertEqual(asked, [500, 1000, 2000])
        self.assertEqual(passed.rate, 2000)


class MeasureTest(unittest.TestCase):
    def test_one_run_puts_k6_s_figures_and_the_processes_cpu_together(self):
        cpu = {101: [1.0, 2.5], 102: [0.5, 1.0]}  # seconds before and after the run
        ticks = {101: [(100, 10), (190, 40)], 102: [(0, 0), (0, 0)]}

        class NoProbes:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def summary(self):
                return None

        pids = {"fights": 101, "heroes": 102}
        with mock.patch.object(load.native, "service_pids", return_value=pids), \
                mock.patch.object(load.native, "cpu_seconds", side_effect=lambda pid: cpu[pid].pop(0)), \
                mock.patch.object(load.native, "kernel_ticks", side_effect=lambda pid: ticks[pid].pop(0)), \
                mock.patch.object(load.native, "peak_rss_mb", return_value=12.0), \
                mock.patch.object(load, "database_cpu", side_effect=[{"postgres": {7: 1.0}},
                                                                     {"postgres": {7: 1.75}}]), \
                mock.patch.object(load, "histograms", return_value={}), \
                mock.patch.object(load, "git_commit", return_value="abc1234"), \
                mock.patch.object(load.pauses, "Probes", NoProbes), \
                mock.patch.object(load, "run_k6", return_value=(fixture("k6-summary.json"), 4.0, 0)):
            run = load.measure(50, host="http://fights")
        self.assertEqual(run.rate, 50)
        self.assertEqual(run.iterations, 1500)
        self.assertTrue(run.thresholds_pass)
        self.assertEqual(run.cpu_s, {"fights": 1.5, "heroes": 0.5, "postgres": 0.75, "k6": 4.0})
        self.assertAlmostEqual(run.service_cpu_ms_per_iteration, 2000 / 1500)
        self.assertAlmostEqual(run.service_kernel_share, 30 / 120)
        self.assertEqual(run.peak_rss_mb, {"fights": 12.0, "heroes": 12.0})
        self.assertIsNone(run.probe)


class LoadResultTest(unittest.TestCase):
    def test_json_round_trip_keeps_every_field(self):
        run = result(fights_tails={"f{}": Tail(3, 1.0, 2.5)},
                     probe=ProbeResult("http://h/x", requests=4, med_ms=1.0, p99_ms=2.0, max_ms=3.0))
        row = json.loads(json.dumps(run.to_dict()))
        self.assertEqual(LoadResult.from_dict(row), run)
        self.assertEqual(list(row)[:5], ["date", "commit", "rate", "duration_s", "iterations"])
        self.assertNotIn("error", row["probe"])

    def test_reads_an_older_row_with_fewer_keys_and_ignores_unknown_ones(self):
        row = {k: v for k, v in result().to_dict().items()
               if k not in ("vus_max", "fights_tails", "probe", "machine_pauses")}
        row["retired_figure"] = 1
        run = LoadResult.from_dict(row)
        self.assertEqual((run.vus_max, run.fights_tails, run.probe), (0, {}, None))

    def test_table_and_sweep_line_show_the_figures(self):
        run = result(probe=ProbeResult("http://h/x", error="k6 wrote no summary"), k6_stopped_ms=45)
        text = table(run)
        self.assertRegex(text, r"p50 / p95 / p99 / max \(ms\) +2\.00 / 5\.00 / 9\.00 / 40\.00\n")
        self.assertIn("probe http://h/x", text)
        self.assertIn("45 ms, 15 s into the run", text)
        self.assertIn("not measured", text)
        self.assertEqual(sweep_line(run), "sweep: 500 it/s -> pass (p95 5.00 ms, errors 0.000 %, "
                                          "dropped 0, service CPU 0.500 ms/it)")


class SweepChartTest(unittest.TestCase):
    def test_draws_every_run_failed_ones_hollow(self):
        runs = [result(1000, passes=False, dropped=7), result(500)]
        svg = sweep_chart.svg(runs, sweep_chart.caption(runs))
        self.assertTrue(svg.startswith("<svg") and svg.endswith("</svg>"))
        self.assertIn("7 dropped", svg)
        self.assertIn('fill="#fff" stroke="#1f6fd1"', svg)
        self.assertIn("at commit abc1234, 2024-01-02T03:04:05Z", svg)

    def test_no_runs_is_a_chart_saying_so(self):
        self.assertIn("no runs", sweep_chart.svg([], sweep_chart.caption([])))

    def test_nice_steps_are_1_2_or_5_times_a_power_of_ten(self):
        self.assertEqual([sweep_chart.nice_step(s) for s in (7, 40, 900, 4000)], [2, 10, 200, 1000])


class PausesTest(unittest.TestCase):
    def test_steal_is_the_eighth_value_of_the_cpu_line(self):
        self.assertEqual(pauses.steal_ticks("cpu  26967 0 6218 15319 387 0 72 17 0 0\ncpu0 1 2\n"), 17)

    def test_overlaps_are_where_every_core_paused(self):
        # Core 0 paused 100 ms from t=1.0, core 1 50 ms from t=1.08: 20 ms together.
        shared = pauses.overlaps([[[1.0, 100.0]], [[1.08, 50.0]]])
        self.assertEqual(len(shared), 1)
        self.assertAlmostEqual(shared[0], 20.0)

    def test_overlaps_under_a_millisecond_are_jitter(self):
        self.assertEqual(pauses.overlaps([[[1.0, 20.0]], [[1.0195, 20.0]]]), [])


if __name__ == "__main__":
    unittest.main()
