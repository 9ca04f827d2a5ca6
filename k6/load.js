// The load test: ramping arrival rate up to RAMPING_RATE fights per second.
//   k6 run k6/load.js                       (K6_HOST defaults to http://localhost:8004)
//   RAMPING_RATE=300 K6_HOST=http://fights:8004 k6 run k6/load.js
// Environment: RAMPING_RATE (500), RAMP_SECONDS (5), HOLD_SECONDS (20), K6_HOST,
// K6_RESULTS_DIR (k6/results: where the JSON summary is written).
import { randomFight } from './randomFight.js';
import { textSummary } from './summary.js';

const RATE = parseInt(__ENV.RAMPING_RATE || '500', 10);
const RAMP = `${parseInt(__ENV.RAMP_SECONDS || '5', 10)}s`;
const HOLD = `${parseInt(__ENV.HOLD_SECONDS || '20', 10)}s`;
const RESULTS = __ENV.K6_RESULTS_DIR || 'k6/results';

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    fights: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)),
      maxVUs: Math.max(100, RATE),
      stages: [
        { target: RATE, duration: RAMP },
        { target: RATE, duration: HOLD },
        { target: 0, duration: RAMP },
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
