// A compact end-of-test summary for stdout (k6's default summary is replaced when
// handleSummary is defined, and the jslib version would have to be fetched remotely).
function ms(v) {
  return v === undefined ? '-' : `${v.toFixed(2)}ms`;
}

export function textSummary(data) {
  const m = data.metrics;
  const d = m.http_req_duration ? m.http_req_duration.values : {};
  const failed = m.http_req_failed ? m.http_req_failed.values.rate : 0;
  const iterations = m.iterations ? m.iterations.values.count : 0;
  const dropped = m.dropped_iterations ? m.dropped_iterations.values.count : 0;
  const checks = m.checks ? m.checks.values : { passes: 0, fails: 0 };
  const lines = [
    `iterations: ${iterations}   dropped: ${dropped}`,
    `http_req_duration: avg ${ms(d.avg)}  p50 ${ms(d.med)}  p95 ${ms(d['p(95)'])}  p99 ${ms(d['p(99)'])}  max ${ms(d.max)}`,
    `http_req_failed: ${(failed * 100).toFixed(3)}%   checks: ${checks.passes} passed, ${checks.fails} failed`,
  ];
  for (const [name, metric] of Object.entries(m)) {
    if (metric.thresholds) {
      for (const [expr, res] of Object.entries(metric.thresholds)) {
        lines.push(`threshold ${name} ${expr}: ${res.ok ? 'pass' : 'FAIL'}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
