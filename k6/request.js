// One GET of URL per iteration at a constant RATE per second for SECONDS: the per-request
// cost measurement of `make floor` (bench/load.py floor).
//   URL=http://127.0.0.1:8001/q/health/live RATE=1500 SECONDS=10 k6 run k6/request.js
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    requests: {
      executor: 'constant-arrival-rate',
      rate: parseInt(__ENV.RATE || '1500', 10),
      timeUnit: '1s',
      duration: `${parseInt(__ENV.SECONDS || '10', 10)}s`,
      preAllocatedVUs: 50,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    dropped_iterations: ['count==0'],
  },
};

export default function () {
  check(http.get(__ENV.URL), { 'status is 200': (r) => r.status === 200 });
}
