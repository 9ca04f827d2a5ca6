// The load test of the original super heroes system, unchanged: a ramping arrival rate of
// fights, 10/s up to RAMPING_RATE in 5 s, held for 20 s, down to 0 in 5 s, with at most
// 400 virtual users, 20 of them allocated up front, and its thresholds: p95 under 500 ms,
// under 0.1 % failed requests, no dropped iteration.
//   k6 run k6/load.js                       (K6_HOST defaults to http://localhost:8004)
//   k6 run -e RAMPING_RATE=300 -e K6_HOST=http://fights:8004 k6/load.js
// Additions that change no load: the end-of-test summary, also written as JSON to
// K6_RESULTS_DIR (default k6/results), and the per-request `name` tags of randomFight.js.
import { randomFight } from './randomFight.js';
import { textSummary } from './summary.js';

const RATE = parseInt(__ENV.RAMPING_RATE || '500', 10);
const RESULTS = __ENV.K6_RESULTS_DIR || 'k6/results';

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    ramp_high_load: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s',
      preAllocatedVUs: 20,
      maxVUs: 400,
      stages: [
        { target: RATE, duration: '5s' },
        { target: RATE, duration: '20s' },
        { target: 0, duration: '5s' },
      ],
    },
  },
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.001'],
    dropped_iterations: ['count==0'],
  },
};

export default function () {
  randomFight();
}

export function handleSummary(data) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    stdout: textSummary(data),
    [`${RESULTS}/summary-${stamp}.json`]: JSON.stringify(data, null, 2),
    [`${RESULTS}/summary-latest.json`]: JSON.stringify(data, null, 2),
  };
}
