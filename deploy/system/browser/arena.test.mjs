// The fight arena page (GET / on fights) in a real browser: Debian's chromium, headless,
// driven by playwright-core. Checks that the page loads without a console error, shows
// fighters and a location, that Fight shows a winner and updates the fights list and the
// statistics, that Narrate tells the fight and shows its poster, that New fighters
// fetches fighters again, that no image is broken and that
// the page fits a phone; writes screenshots at desktop and phone width.
//
//   node arena.test.mjs          (run.sh beside it installs what it needs first)
// Environment: ARENA_BASE_URL (http://127.0.0.1:8004), ARENA_SCREENSHOT
// (k6/results/arena.png; the phone one is written beside it as arena-phone.png),
// CHROMIUM (/usr/bin/chromium).
//
// The seed pictures are portraits the catalogues draw (GET /api/heroes/pictures/... on
// localhost:8001, villains 8002, locations 8003, or PICTURE_ORIGINS): the seed fighters
// and location must show them, not the page's placeholder. Requests for images on any
// other host are aborted, as a browser offline would fail them, and only the console's
// report of those aborted loads is ignored. Any other request leaving the system is a
// failure (the page must work with no network).
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BASE = new URL(process.env.ARENA_BASE_URL || 'http://127.0.0.1:8004');
const SHOT = resolve(process.env.ARENA_SCREENSHOT || join(ROOT, 'k6/results/arena.png'));
const PHONE_SHOT = SHOT.replace(/(\.png)?$/i, '-phone.png');
const TIMEOUT = 10_000;
const PICTURE_ORIGINS = new Set((process.env.PICTURE_ORIGINS
  || 'http://localhost:8001 http://localhost:8002 http://localhost:8003').split(/\s+/).filter(Boolean));

const results = [];

async function check(name, body) {
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok    ${name}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name}: ${error.message.split('\n')[0]}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const text = (page, selector) => page.locator(selector).first().innerText();

async function fightsList(page) {
  return page.locator('#fights li').allInnerTexts();
}

async function brokenImages(page) {
  return page.evaluate(() => Array.from(document.images)
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.currentSrc.slice(0, 80) || '(no src)'));
}

async function main() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'arena-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    await run(context);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function run(context) {
  const abortedPictures = new Set();
  const foreignRequests = [];
  await context.route('**/*', (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.origin === BASE.origin) return route.continue();
    if (request.resourceType() === 'image' && PICTURE_ORIGINS.has(url.origin)) return route.continue();
    if (request.resourceType() === 'image') {
      abortedPictures.add(request.url());
      return route.abort('internetdisconnected');
    }
    foreignRequests.push(request.url());
    return route.abort('blockedbyclient');
  });

  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const aborted = message.text().startsWith('Failed to load resource: net::ERR_INTERNET_DISCONNECTED')
      && abortedPictures.has(message.location().url);
    if (!aborted) consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));

  let response;
  await check(`GET ${BASE.href} answers an HTML page`, async () => {
    response = await page.goto(BASE.href, { waitUntil: 'load' });
    assert(response, 'no response');
    assert(response.status() === 200, `status ${response.status()}`);
    const type = response.headers()['content-type'] || '';
    assert(type.startsWith('text/html'), `content-type "${type}"`);
  });
  if (!response || response.status() !== 200) return;

  await check('fighters and a location are shown', async () => {
    await page.locator('#fight:enabled').waitFor();
    for (const id of ['#hero', '#villain', '#location']) {
      const name = (await text(page, `${id} h3`)).trim();
      assert(name && name !== '…', `${id} has no name`);
    }
    assert(/^Level \d+/.test(await text(page, '#hero .level')), 'hero level missing');
    assert(/^Level \d+/.test(await text(page, '#villain .level')), 'villain level missing');
  });

  let fightsBefore = [];
  let statsBefore = '';
  await check('the last fights and the statistics are shown', async () => {
    await page.locator('#fights li, #fights-note:not(:empty)').first().waitFor();
    await page.locator('#stats .total').waitFor();
    fightsBefore = await fightsList(page);
    assert(fightsBefore.length <= 10, `${fightsBefore.length} fights listed, at most 10 expected`);
    statsBefore = await text(page, '#stats');
  });

  await check('the seed fighters and location show their own portraits', async () => {
    for (const id of ['#hero', '#villain', '#location']) {
      const img = page.locator(`${id} img:not([data-placeholder])`);
      await img.waitFor();
      const src = await img.getAttribute('src');
      assert(/\/api\/(heroes|villains|locations)\/pictures\/[a-z0-9-]+\.svg$/.test(src || ''), `${id} shows ${src}`);
      assert(await img.evaluate((el) => el.complete && el.naturalWidth > 0), `${id} portrait did not load`);
    }
  });

  await check('no broken image after loading', async () => {
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
    const broken = await brokenImages(page);
    assert(broken.length === 0, `broken: ${broken.join(', ')}`);
  });

  await check('Fight is reachable by keyboard with a visible focus', async () => {
    let focused = '';
    for (let i = 0; i < 6 && focused !== 'fight'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    }
    assert(focused === 'fight', 'Tab never reached the Fight button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert(outline !== 'none', 'the focused Fight button has no outline');
  });

  let winner = '';
  await check('Fight shows a winner', async () => {
    const hero = (await text(page, '#hero h3')).trim();
    const villain = (await text(page, '#villain h3')).trim();
    const posted = page.waitForResponse((r) => r.url().endsWith('/api/fights')
      && r.request().method() === 'POST');
    await page.keyboard.press('Enter');
    assert((await posted).status() === 200, 'POST /api/fights did not answer 200');
    await page.locator('#winner', { hasText: 'Winner:' }).waitFor();
    winner = (await text(page, '#winner .team-heroes, #winner .team-villains')).trim();
    assert(winner === hero || winner === villain, `winner "${winner}" is neither ${hero} nor ${villain}`);
  });

  await check('Narrate tells the fight and shows its poster', async () => {
    const told = page.waitForResponse((r) => r.url().endsWith('/api/fights/narrate')
      && r.request().method() === 'POST');
    const drawn = page.waitForResponse((r) => r.url().endsWith('/api/fights/narrate/image')
      && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Narrate' }).click();
    assert((await told).status() === 200, 'POST /api/fights/narrate did not answer 200');
    assert((await drawn).status() === 200, 'POST /api/fights/narrate/image did not answer 200');
    await page.locator('#narration:not([hidden]) img').waitFor();
    const story = (await text(page, '#story')).trim();
    assert(story.includes(winner), `the story does not name the winner ${winner}: ${story}`);
    const poster = page.locator('#narration img');
    const src = await poster.getAttribute('src');
    assert((src || '').startsWith(`${BASE.origin}/api/fights/narrate/poster?`), `poster at ${src}`);
    await page.waitForFunction(() => document.querySelector('#narration img').complete);
    assert(await poster.evaluate((el) => el.naturalWidth > 0), 'the poster did not load');
  });

  await check('the fights list changes after the fight', async () => {
    await page.waitForFunction((before) => {
      const now = Array.from(document.querySelectorAll('#fights li'), (li) => li.innerText);
      return now.length > 0 && now.join('\n') !== before;
    }, fightsBefore.join('\n'));
    const after = await fightsList(page);
    assert(after.length <= 10, `${after.length} fights listed`);
    assert(after.some((item) => item.includes(winner)), `the winner ${winner} is not in the list`);
  });

  await check('the statistics change after the fight', async () => {
    await page.waitForFunction((before) => {
      const stats = document.querySelector('#stats');
      return stats.querySelector('.total') && stats.innerText !== before;
    }, statsBefore);
  });

  await check(`desktop screenshot written to ${SHOT}`, async () => {
    mkdirSync(dirname(SHOT), { recursive: true });
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.screenshot({ path: SHOT, fullPage: true });
  });

  await check(`fits a 360 px phone; screenshot written to ${PHONE_SHOT}`, async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(overflow <= 360, `the page is ${overflow} px wide`);
    await page.screenshot({ path: PHONE_SHOT, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await check('New fighters fetches and shows new fighters', async () => {
    const fetched = page.waitForResponse((r) => r.url().endsWith('/api/fights/randomfighters'));
    await page.getByRole('button', { name: 'New fighters' }).click();
    const fighters = await (await fetched).json();
    await page.locator('#fight:enabled').waitFor();
    assert((await text(page, '#hero h3')).trim() === fighters.hero.name, 'hero name not shown');
    assert((await text(page, '#villain h3')).trim() === fighters.villain.name, 'villain name not shown');
    assert((await text(page, '#winner')).trim() === '', 'the previous winner is still shown');
  });

  await check('no broken image after New fighters', async () => {
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
    const broken = await brokenImages(page);
    assert(broken.length === 0, `broken: ${broken.join(', ')}`);
  });

  await check('no console error and no request leaving the origin', async () => {
    assert(consoleErrors.length === 0, `console: ${consoleErrors.join(' | ')}`);
    assert(foreignRequests.length === 0, `requests to ${foreignRequests.join(', ')}`);
  });
}

try {
  await main();
} catch (error) {
  results.push({ name: 'browser session', ok: false });
  console.log(`FAIL  browser session: ${error.message}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
