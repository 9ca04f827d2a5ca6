// Fights at a constant RATE per second for SECONDS: not the load test (that is load.js),
// but the steady background load of `make flamegraphs` and of the k6 smoke in `make test`.
//   k6 run -e RATE=500 -e SECONDS=16 k6/steady.js
import { randomFight } from './randomFight.js';

const RATE = parseInt(__ENV.RATE || '500', 10);

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: `${parseInt(__ENV.SECONDS || '10', 10)}s`,
      preAllocatedVUs: Math.max(20, Math.ceil(RATE / 10)),
      maxVUs: 400,
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    dropped_iterations: ['count==0'],
  },
};

export default function () {
  randomFight();
}
