// One fight as a user of the fights service plays it: fetch random fighters and a random
// location, then post the fight. Shared by load.js and any other scenario.
import http from 'k6/http';
import { check } from 'k6';

const HOST = __ENV.K6_HOST || 'http://localhost:8004';
const JSON_HEADERS = { headers: { 'Content-Type': 'application/json' } };

function notFallback(name) {
  return typeof name === 'string' && !name.toLowerCase().includes('fallback');
}

export function randomFight() {
  const fighters = http.get(`${HOST}/api/fights/randomfighters`, { tags: { name: 'randomfighters' } });
  check(fighters, {
    'randomfighters is 200': (r) => r.status === 200,
    'no fallback fighters': (r) =>
      r.status === 200 && notFallback(r.json('hero.name')) && notFallback(r.json('villain.name')),
  });

  const location = http.get(`${HOST}/api/fights/randomlocation`, { tags: { name: 'randomlocation' } });
  check(location, {
    'randomlocation is 200': (r) => r.status === 200,
    'no fallback location': (r) => r.status === 200 && notFallback(r.json('name')),
  });

  if (fighters.status !== 200 || location.status !== 200) {
    return;
  }
  const body = JSON.stringify({
    hero: fighters.json('hero'),
    villain: fighters.json('villain'),
    location: location.json(),
  });
  const fight = http.post(`${HOST}/api/fights`, body, { ...JSON_HEADERS, tags: { name: 'fight' } });
  check(fight, {
    'fight is 200': (r) => r.status === 200,
    'fight has a winner': (r) => r.status === 200 && typeof r.json('winnerName') === 'string',
  });
}
