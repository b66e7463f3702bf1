// End-to-end test of the dashboard: a real `milf server` and a real node on
// 127.0.0.1, driven through Debian's Chromium with playwright-core.
//
//   MILF_BIN=../build/bin/milf [MILF_EXAMPLES=../build/examples] [MILF_WEB=../build/web] npm run e2e
//
// It starts `milf server --web DIR` on a free port with a fresh data
// directory (DIR: MILF_WEB, else build/web beside the binary's bin/ when it
// holds index.html, else web/dist), logs
// in through the dashboard, enrolls a node with a token made on the Admin
// page, deploys examples by upload, invokes them, follows the invocation
// and the node live, checks that a second user sees none of it, and saves
// a screenshot of every page at 1280 px and 390 px into docs/screenshots/.
//
// MILF_E2E_URL=http://127.0.0.1:PORT runs against a server that is already
// up instead (with MILF_ADMIN_PASSWORD and a node of its own); nothing is
// started then. MILF_E2E_SCREENSHOTS overrides the screenshot directory.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repo = path.resolve(webDir, '..');
// The built dashboard `milf server --web` serves: MILF_WEB, else the build
// tree's web/ beside MILF_BIN's bin/ (make build), else web/dist (npm run build).
function dashboardDir() {
  if (process.env.MILF_WEB) return path.resolve(process.env.MILF_WEB);
  if (process.env.MILF_BIN) {
    const built = path.resolve(path.dirname(process.env.MILF_BIN), '..', 'web');
    if (fs.existsSync(path.join(built, 'index.html'))) return built;
  }
  return path.join(webDir, 'dist');
}
const distDir = dashboardDir();
const shotsDir = path.resolve(process.env.MILF_E2E_SCREENSHOTS ?? path.join(repo, 'docs', 'screenshots'));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const external = process.env.MILF_E2E_URL ?? '';
const STEP_TIMEOUT = 20_000;

const results = [];
const children = [];
let browser = null;
let tmp = null;
let lastPage = null; // for a screenshot when a step fails

function log(message) {
  process.stdout.write(`${message}\n`);
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    log(`  FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (lastPage && tmp) {
      const file = path.join(tmp, 'failure.png');
      await lastPage.screenshot({ path: file, fullPage: true }).catch(() => {});
      log(`  (the page at the failure: ${file}, ${lastPage.url()})`);
    }
    throw error;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function start(command, args, env, name) {
  const logFile = path.join(tmp, `${name}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out], cwd: tmp });
  children.push({ child, name, logFile });
  child.on('exit', (code, signal) => {
    if (!child.stopping) log(`  (${name} exited: ${signal ?? code})`);
  });
  child.on('error', (error) => log(`  (${name} could not start: ${error.message})`));
  return child;
}

async function waitFor(what, check, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last = null;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

function helpOf(bin, args) {
  try {
    return execFileSync(bin, [...args, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return String(error.stdout ?? '');
  }
}

// --- page helpers -----------------------------------------------------------

async function login(page, base, user, password) {
  await page.goto(`${base}/login`);
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('who').waitFor({ timeout: STEP_TIMEOUT });
}

async function logout(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('input[name=user]').waitFor({ timeout: STEP_TIMEOUT });
}

// Inside the running dashboard, navigates like a link does (the live state
// and its charts keep their history); otherwise loads the page.
async function open(page, base, route) {
  const inApp = page.url().startsWith(base) && (await page.getByTestId('who').isVisible());
  if (inApp) {
    await page.evaluate((to) => {
      window.history.pushState({}, '', to);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, route);
  } else {
    await page.goto(`${base}${route}`);
  }
  await page.getByTestId('who').waitFor({ timeout: STEP_TIMEOUT });
}

async function textOf(locator) {
  return (await locator.textContent({ timeout: STEP_TIMEOUT })) ?? '';
}

// The headline figures of a page: {label: value}.
async function stats(page) {
  return page.locator('.stat').evaluateAll((nodes) =>
    Object.fromEntries(nodes.map((n) => [n.querySelector('.stat-label')?.textContent ?? '', n.querySelector('.stat-value')?.textContent ?? ''])),
  );
}

async function shoot(page, name) {
  // Let charts lay out and "loading" states settle.
  await page.waitForTimeout(600);
  const width = page.viewportSize()?.width ?? 0;
  const file = path.join(shotsDir, `${name}-${width <= 500 ? 'phone' : 'desktop'}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

async function api(base, token, method, route, body) {
  const response = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

// --- source editor ----------------------------------------------------------

const COMPILE_TIMEOUT = 90_000; // a compile on a busy 2-core machine

// The C hello of the editor with one mistake on line 9 ("length" is not
// declared), and the same file fixed.
const BROKEN_C = [
  '#include <stdio.h>',
  '#include <stdlib.h>',
  '',
  '#include "milf.h"',
  '',
  'int main(void) {',
  '  unsigned char* input;',
  '  size_t len;',
  '  if (milf_read_input(&input, &length) != 0) return 1;',
  '  printf("Hello, %s!\\n", len > 0 ? (const char*)input : "MILF");',
  '  free(input);',
  '  return 0;',
  '}',
  '',
].join('\n');
const BROKEN_LINE = 9;
const FIXED_C = BROKEN_C.replace('&length)', '&len)');

// Whether the server compiles source: {ok} or {ok: false, reason}.
async function compilerStatus(base, token) {
  const response = await fetch(`${base}/api/v1/compile?filename=probe.c`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain; charset=utf-8' },
    body: 'int main(void) { return 0; }\n',
  });
  if (response.status === 404 || response.status === 405 || response.status === 501) {
    return { ok: false, reason: `the server has no compiler service (POST /api/v1/compile answered HTTP ${response.status})` };
  }
  if (response.status === 503) {
    // The service is off on this host (it cannot create its jail, say).
    return { ok: false, reason: `the compiler service is unavailable: HTTP 503 ${(await response.text()).slice(0, 300)}` };
  }
  if (response.status !== 200) throw new Error(`POST /api/v1/compile answered HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return { ok: true };
}

// Replaces the editor's text as a paste would.
async function typeSource(page, text) {
  const content = page.locator('.cm-content');
  await content.waitFor({ timeout: STEP_TIMEOUT });
  await content.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  const got = await page.evaluate(() => [...document.querySelectorAll('.cm-content > .cm-line')].map((l) => l.textContent).join('\n'));
  if (got.trim() !== text.trim()) throw new Error(`the editor holds something else than what was typed:\n${got}`);
}

// The 1-based editor line holding the first mark of a severity, or 0.
async function markedLine(page, severity) {
  return page.evaluate((cls) => {
    const mark = document.querySelector(`.cm-content .cm-lintRange-${cls}`);
    const line = mark?.closest('.cm-line');
    return line ? [...document.querySelectorAll('.cm-content > .cm-line')].indexOf(line) + 1 : 0;
  }, severity);
}

async function activeLine(page) {
  return page.evaluate(() => {
    const line = document.querySelector('.cm-content > .cm-activeLine');
    return line ? [...document.querySelectorAll('.cm-content > .cm-line')].indexOf(line) + 1 : 0;
  });
}

// Checks the source in the editor, expecting the compile to fail on BROKEN_LINE.
async function expectBrokenLine(page, filename) {
  await typeSource(page, BROKEN_C);
  await page.getByTestId('source-check').click();
  await waitFor('the compile to fail', async () => /Does not compile/.test(await textOf(page.getByTestId('compile-status'))), COMPILE_TIMEOUT);
  const list = page.getByTestId('diagnostics');
  const item = list.locator('button.diagnostic').filter({ hasText: `${filename}:${BROKEN_LINE}:` }).first();
  await item.waitFor({ timeout: STEP_TIMEOUT });
  if (!/length/.test(await textOf(item))) throw new Error(`diagnostic: ${await textOf(item)}`);
  const line = await markedLine(page, 'error');
  if (line !== BROKEN_LINE) throw new Error(`the error is marked on line ${line}, not ${BROKEN_LINE}`);
  const marked = await page.locator('.cm-content .cm-lintRange-error').first().textContent();
  if (marked !== 'length') throw new Error(`the mark covers "${marked}", not "length"`);
  if ((await page.locator('.cm-gutter-lint .cm-lint-marker-error').count()) < 1) throw new Error('no error marker in the gutter');
  return item;
}

// --- the test ---------------------------------------------------------------

async function main() {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) throw new Error(`${distDir}/index.html is missing: build the dashboard first (make build, or npm run build)`);
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium`);
  fs.mkdirSync(shotsDir, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'milf-e2e-'));

  let base = external.replace(/\/$/, '');
  let adminPassword = process.env.MILF_ADMIN_PASSWORD ?? '';
  let milf = '';
  let examples = '';
  if (!external) {
    milf = path.resolve(process.env.MILF_BIN ?? '');
    if (!process.env.MILF_BIN || !fs.existsSync(milf)) throw new Error('set MILF_BIN to the milf binary (e.g. ../build/bin/milf)');
    examples = path.resolve(process.env.MILF_EXAMPLES ?? path.join(path.dirname(milf), '..', 'examples'));
    adminPassword = `e2e-${Math.random().toString(36).slice(2)}-admin`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const serverArgs = ['server', '--listen', `127.0.0.1:${port}`, '--data', path.join(tmp, 'data'), '--web', distDir];
    start(milf, serverArgs, { MILF_ADMIN_PASSWORD: adminPassword, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'config') }, 'server');
  } else {
    examples = path.resolve(process.env.MILF_EXAMPLES ?? path.join(repo, 'build', 'examples'));
    if (!adminPassword) throw new Error('MILF_E2E_URL needs MILF_ADMIN_PASSWORD');
  }
  const hello = path.join(examples, 'hello.wasm');
  const echo = path.join(examples, 'echo.wasm');
  const compute = path.join(examples, 'compute.wasm');
  for (const file of [hello, echo, compute]) if (!fs.existsSync(file)) throw new Error(`missing example ${file} (set MILF_EXAMPLES)`);
  log(`e2e: server ${base}, dashboard ${external ? '(the server\'s own)' : distDir}, examples ${examples}, screenshots ${shotsDir}`);

  await step('server answers /healthz and serves the dashboard at /', async () => {
    await waitFor('/healthz', async () => (await fetch(`${base}/healthz`)).ok);
    const index = await fetch(`${base}/`);
    const html = await index.text();
    if (!index.ok || !html.includes('<div id="root">')) throw new Error(`GET / did not answer the dashboard (HTTP ${index.status})`);
    const deep = await fetch(`${base}/functions/some-name`);
    if (!deep.ok || !(await deep.text()).includes('<div id="root">')) throw new Error('GET /functions/some-name is not the SPA fallback');
  });

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await desktop.newPage();
  lastPage = page;
  const consoleErrors = [];
  page.on('pageerror', (error) => consoleErrors.push(error.message));

  await step('login page shows a clear error for a wrong password', async () => {
    await page.goto(`${base}/`);
    await page.locator('input[name=user]').waitFor({ timeout: STEP_TIMEOUT });
    await shoot(page, 'login');
    await page.locator('input[name=user]').fill('admin');
    await page.locator('input[name=password]').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const error = await textOf(page.getByTestId('login-error'));
    if (!/wrong user name or password/i.test(error)) throw new Error(`unexpected login error: ${error}`);
  });

  await step('1. log in as admin', async () => {
    await login(page, base, 'admin', adminPassword);
    const who = await textOf(page.getByTestId('who'));
    if (!who.includes('admin')) throw new Error(`header shows ${who}`);
    await waitFor('the live stream', async () => (await textOf(page.getByTestId('stream-status'))).includes('live'));
  });

  const devPassword = `dev-${Math.random().toString(36).slice(2)}-pw`;
  await step('admin creates a developer user', async () => {
    await open(page, base, '/admin');
    const form = page.locator('form').first();
    await form.getByLabel('Name').fill('e2e-dev');
    await form.getByLabel('Password').fill(devPassword);
    await form.getByLabel('Role').selectOption('developer');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByTestId('users-table').getByText('e2e-dev').waitFor({ timeout: STEP_TIMEOUT });
    await shoot(page, 'admin');
  });

  let nodeToken = '';
  await step('admin creates a node enrollment token (shown once)', async () => {
    await page.getByRole('button', { name: 'Node tokens' }).click();
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    nodeToken = (await textOf(page.getByTestId('secret'))).trim();
    if (nodeToken.length < 8) throw new Error(`token looks wrong: ${nodeToken}`);
    await shoot(page, 'admin-tokens');
  });

  await step('4. the node appears live on the Nodes page with its telemetry', async () => {
    await open(page, base, '/nodes');
    let withBattery = false;
    if (!external) {
      const nodeHelp = helpOf(milf, ['node']);
      // Two simulated phones, one on battery and one charging, when the node
      // can simulate one; the second enrolls with a token made through the API.
      const token = await page.evaluate(() => JSON.parse(localStorage.getItem('milf.session') ?? '{}').accessToken);
      const second = await api(base, token, 'POST', '/tokens/node', { ttl_seconds: 600 });
      if (second.status !== 201) throw new Error(`POST /tokens/node answered ${second.status}`);
      const nodes = [
        { name: 'e2e-phone', token: nodeToken, profile: { battery: { start_percent: 76 }, charging: false, temperature: { idle_c: 31, busy_c: 39 } } },
        { name: 'e2e-charger', token: second.body.token, profile: { battery: { start_percent: 41 }, charging: true, temperature: { idle_c: 29, busy_c: 35 } } },
      ];
      for (const node of nodes) {
        const args = ['node', '--server', base, '--token', node.token];
        if (nodeHelp.includes('--name')) args.push('--name', node.name);
        if (nodeHelp.includes('--data')) args.push('--data', path.join(tmp, node.name));
        if (nodeHelp.includes('--device-profile')) {
          const file = path.join(tmp, `${node.name}.json`);
          fs.writeFileSync(file, JSON.stringify(node.profile));
          args.push('--device-profile', file);
          withBattery = true;
        }
        start(milf, args, { HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'config') }, node.name);
      }
    }
    // Without a reload: the rows arrive through the event stream.
    const row = page.getByTestId('nodes-table').locator('tbody tr').filter({ hasText: 'accepting' }).first();
    await row.waitFor({ timeout: 30_000 });
    await waitFor('telemetry on the node row', async () => {
      const text = await textOf(row);
      const cpu = /\d+(\.\d+)? %/.test(text);
      const slots = /\d+ of \d+/.test(text);
      const seen = /(just now|\d+ s ago)/.test(text);
      const battery = !withBattery || /(on battery|charging)/.test(text);
      return cpu && slots && seen && battery;
    });
    if (!external) {
      await waitFor('both nodes', async () => (await page.getByTestId('nodes-table').locator('tbody tr').count()) >= 2);
    }
    await shoot(page, 'nodes');
  });

  await step('2. deploy examples by upload (one with a fuel limit)', async () => {
    await open(page, base, '/functions');
    for (const [name, file, fuel] of [
      ['hello', hello, ''],
      ['echo', echo, ''],
      ['compute-capped', compute, '10000'],
    ]) {
      await page.getByTestId('wasm-file').setInputFiles(file);
      await waitFor('the chosen module', async () => (await textOf(page.getByTestId('module-summary'))).includes(path.basename(file)));
      await page.locator('input[name=function-name]').fill(name);
      if (fuel) {
        await page.locator('details.settings summary').click();
        await page.getByLabel('Fuel (instructions)').fill(fuel);
      }
      await page.getByRole('button', { name: 'Deploy', exact: true }).click();
      await waitFor(`the deployed message for ${name}`, async () => (await textOf(page.getByTestId('deployed'))).includes(`Deployed ${name} `));
      await page.getByTestId('functions-table').getByRole('link', { name, exact: true }).waitFor({ timeout: STEP_TIMEOUT });
      await page.getByTestId('wasm-file').setInputFiles([]);
      await page.getByTestId('module-summary').waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
      await page.locator('input[name=function-name]').fill('');
    }
  });

  let invocationId = '';
  await step('3. invoke echo and hello and see their output', async () => {
    await open(page, base, '/functions/echo');
    await page.getByTestId('invoke-input').fill('ping from the e2e test');
    await page.getByTestId('invoke-button').click();
    const output = await textOf(page.getByTestId('invoke-output'));
    if (!output.includes('ping from the e2e test')) throw new Error(`echo output: ${output}`);
    const result = await textOf(page.getByTestId('invoke-result'));
    if (!/succeeded/.test(result) || !/fuel/.test(result)) throw new Error(`result: ${result}`);
    invocationId = ((await page.getByTestId('invoke-result').locator('a.mono').textContent()) ?? '').trim();
    if (!invocationId) throw new Error('no invocation id shown');
    await waitFor('memory figure', async () => /memory \d/.test(await textOf(page.getByTestId('invoke-result'))));
    await shoot(page, 'function-detail');

    await open(page, base, '/functions/hello');
    await page.getByTestId('invoke-button').click();
    const helloOut = await textOf(page.getByTestId('invoke-output'));
    if (!helloOut.includes('Hello from MILF!')) throw new Error(`hello output: ${helloOut}`);
  });

  await step('a run over its fuel limit shows as failed with the reason', async () => {
    await open(page, base, '/functions/compute-capped');
    await page.getByTestId('invoke-button').click();
    await waitFor('the failed result', async () => {
      const result = await textOf(page.getByTestId('invoke-result'));
      return /failed/.test(result) && /fuel_exhausted/.test(result);
    });
  });

  // The source editor needs the server's compiler service; a server without
  // it skips these steps and says so.
  const compiler = await compilerStatus(base, await page.evaluate(() => JSON.parse(localStorage.getItem('milf.session') ?? '{}').accessToken));
  if (!compiler.ok) log(`  skip source editor steps: ${compiler.reason}`);
  if (compiler.ok) {
    await step('source editor: every hello template compiles (Rust only if the server has it)', async () => {
      await open(page, base, '/functions?from=source');
      await page.locator('.cm-content').waitFor({ timeout: STEP_TIMEOUT });
      const languages = await page.locator('select[name=source-language] option').evaluateAll((options) => options.map((o) => [o.value, o.textContent]));
      for (const [value, label] of languages) {
        await page.locator('select[name=source-language]').selectOption(value);
        await page.getByTestId('compile-status').waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
        await page.getByTestId('source-check').click();
        await waitFor(`the ${label} hello to compile`, async () => {
          const alerts = await page.getByRole('alert').allTextContents();
          const refused = alerts.find((text) => /HTTP (400|503)/.test(text));
          if (refused && value === 'rust') {
            log(`       (${label}: ${refused.replace(/\s+/g, ' ').trim()})`);
            return true;
          }
          if (refused || alerts.some((text) => /Does not compile|Error:/.test(text))) throw new Error(`${label}: ${alerts.join(' | ')}`);
          const status = page.getByTestId('compile-status');
          return (await status.isVisible()) && /Compiles/.test(await textOf(status)) && !(await page.getByTestId('source-check').isDisabled());
        }, COMPILE_TIMEOUT);
      }
    });

    await step('source editor: a compile error is marked at its line, the fix deploys and runs', async () => {
      await open(page, base, '/functions?from=source');
      await page.locator('input[name=source-function-name]').fill('from-source');
      await page.locator('select[name=source-language]').selectOption('c');
      const item = await expectBrokenLine(page, 'from-source.c');
      await page.locator('.cm-content').evaluate((el) => el.blur());
      await item.click();
      await waitFor('the cursor on the error line', async () => (await activeLine(page)) === BROKEN_LINE);
      await shoot(page, 'source-editor');

      await typeSource(page, FIXED_C);
      await page.getByTestId('source-deploy').click();
      await waitFor('the deploy', async () => /Deployed from-source version 1/.test(await textOf(page.getByTestId('compile-status'))), COMPILE_TIMEOUT);
      if ((await page.locator('.cm-content .cm-lintRange-error').count()) > 0) throw new Error('an error mark is left after a clean compile');
      await page.getByTestId('functions-table').getByRole('link', { name: 'from-source', exact: true }).waitFor({ timeout: STEP_TIMEOUT });

      await open(page, base, '/functions/from-source');
      await waitFor('the source on the detail page', async () => /from-source\.c/.test(await textOf(page.getByTestId('source-origin'))));
      const shown = await page.locator('.cm-content').textContent({ timeout: STEP_TIMEOUT });
      if (!shown?.includes('milf_read_input(&input, &len)')) throw new Error(`the detail page shows another source: ${shown}`);
      await page.getByTestId('invoke-input').fill('e2e');
      await page.getByTestId('invoke-button').click();
      const output = await textOf(page.getByTestId('invoke-output'));
      if (!output.includes('Hello, e2e!')) throw new Error(`from-source output: ${output}`);
      await shoot(page, 'function-source');
    });

    await step('source editor at 390 px: marks, list and buttons fit the phone screen', async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const small = await phone.newPage();
      lastPage = small;
      small.on('pageerror', (error) => consoleErrors.push(error.message));
      await login(small, base, 'admin', adminPassword);
      await open(small, base, '/functions?from=source');
      await small.locator('input[name=source-function-name]').fill('from-source');
      await expectBrokenLine(small, 'from-source.c');
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) throw new Error(`the source editor is ${overflow} px wider than the phone screen`);
      await shoot(small, 'source-editor');
      await open(small, base, '/functions/from-source');
      await small.locator('.cm-content').waitFor({ timeout: STEP_TIMEOUT });
      const detailOverflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (detailOverflow > 1) throw new Error(`the function's source is ${detailOverflow} px wider than the phone screen`);
      await phone.close();
      lastPage = page;
    });
  }

  await step('5. the invocation is in the list and its detail shows the timeline', async () => {
    await open(page, base, '/invocations');
    const row = page.getByTestId('invocations-table').locator(`tr[data-id="${invocationId}"]`);
    await row.waitFor({ timeout: STEP_TIMEOUT });
    if (!(await textOf(row)).includes('succeeded')) throw new Error(`row: ${await textOf(row)}`);
    await shoot(page, 'invocations');
    await row.getByRole('link', { name: invocationId }).click();
    await page.getByTestId('timeline').waitFor({ timeout: STEP_TIMEOUT });
    const timeline = await textOf(page.getByTestId('timeline'));
    for (const state of ['queued', 'succeeded']) if (!timeline.includes(state)) throw new Error(`timeline lacks ${state}: ${timeline}`);
    const output = await textOf(page.getByTestId('invocation-output'));
    if (!output.includes('ping from the e2e test')) throw new Error(`detail output: ${output}`);
    await shoot(page, 'invocation-detail');
  });

  await step('a queued invocation shows up live on the Invocations page', async () => {
    await open(page, base, '/invocations');
    await page.getByTestId('invocations-table').waitFor({ timeout: STEP_TIMEOUT });
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('milf.session') ?? '{}').accessToken);
    const response = await fetch(`${base}/api/v1/functions/hello/invoke?async=1`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: 'x' });
    if (response.status !== 202) throw new Error(`async invoke answered ${response.status}`);
    const { id } = await response.json();
    await waitFor('the new invocation', async () => {
      const banner = page.getByRole('button', { name: /new invocation/ });
      if (await banner.isVisible()) await banner.click();
      return page.locator(`tr[data-id="${id}"]`).isVisible();
    });
  });

  await step('a burst of queued invocations moves the live charts', async () => {
    await open(page, base, '/');
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('milf.session') ?? '{}').accessToken);
    // Bounded: 36 invocations over about 9 s, to 127.0.0.1 only.
    for (let i = 0; i < 36; i += 1) {
      const name = i % 6 === 5 ? 'compute-capped' : i % 2 ? 'echo' : 'hello';
      const response = await fetch(`${base}/api/v1/functions/${name}/invoke?async=1`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: `burst ${i}`,
      });
      if (response.status !== 202) throw new Error(`async invoke answered ${response.status}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await waitFor('every invocation of the burst to finish', async () => {
      const figures = await stats(page);
      return Number(figures.Invocations) >= 40 && Number(figures.Errors) >= 7 && figures['Queue depth'] === '0';
    }, 60_000);
  });

  await step('overview, functions, usage and account pages show the data', async () => {
    await open(page, base, '/');
    await waitFor('invocations and nodes on the overview', async () => {
      const figures = await stats(page);
      return Number(figures.Invocations) >= 3 && Number(figures['Nodes online']) >= 1;
    });
    await shoot(page, 'overview');
    await open(page, base, '/functions');
    await page.getByTestId('functions-table').getByRole('link', { name: 'echo', exact: true }).waitFor({ timeout: STEP_TIMEOUT });
    await shoot(page, 'functions');
    await open(page, base, '/usage');
    await page.getByTestId('usage-stats').waitFor({ timeout: STEP_TIMEOUT });
    await shoot(page, 'usage');
    await open(page, base, '/account');
    await page.getByLabel('New key name').fill('e2e-key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await textOf(page.getByTestId('secret'))).trim();
    if (!key.startsWith('milf_')) throw new Error(`API key looks wrong: ${key}`);
    await shoot(page, 'account');
  });

  await step('phone width (390 px): every page renders without horizontal scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    lastPage = small;
    small.on('pageerror', (error) => consoleErrors.push(error.message));
    await small.goto(`${base}/login`);
    await small.locator('input[name=user]').waitFor({ timeout: STEP_TIMEOUT });
    await shoot(small, 'login');
    await login(small, base, 'admin', adminPassword);
    const pages = [
      ['overview', '/', '.stats'],
      ['functions', '/functions', '[data-testid=functions-table]'],
      ['function-detail', '/functions/echo', '[data-testid=invoke-button]'],
      ['invocations', '/invocations', '[data-testid=invocations-table]'],
      ['invocation-detail', `/invocations/${invocationId}`, '[data-testid=timeline]'],
      ['nodes', '/nodes', '[data-testid=nodes-table]'],
      ['usage', '/usage', '[data-testid=usage-stats]'],
      ['admin', '/admin', '[data-testid=users-table]'],
      ['account', '/account', 'form'],
    ];
    for (const [name, route, ready] of pages) {
      await open(small, base, route);
      await small.locator(ready).first().waitFor({ timeout: STEP_TIMEOUT });
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) throw new Error(`${route} is ${overflow} px wider than the phone screen`);
      await shoot(small, name);
    }
    await small.getByRole('button', { name: 'Menu' }).click();
    await small.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).waitFor({ timeout: STEP_TIMEOUT });
    await shoot(small, 'menu');
    await phone.close();
    lastPage = page;
  });

  await step('6. a second user sees none of it', async () => {
    await logout(page);
    await login(page, base, 'e2e-dev', devPassword);
    const nav = await textOf(page.getByRole('navigation', { name: 'Main' }));
    if (nav.includes('Admin')) throw new Error('a developer is offered the Admin page');
    await open(page, base, '/functions');
    await page.getByText('No functions yet').waitFor({ timeout: STEP_TIMEOUT });
    await open(page, base, '/invocations');
    await page.getByText('No invocations yet').waitFor({ timeout: STEP_TIMEOUT });
    await open(page, base, `/invocations/${invocationId}`);
    await page.getByRole('alert').filter({ hasText: 'not_found' }).waitFor({ timeout: STEP_TIMEOUT });
    await open(page, base, '/functions/echo');
    await page.getByRole('alert').filter({ hasText: 'not_found' }).waitFor({ timeout: STEP_TIMEOUT });
    await open(page, base, '/admin');
    await page.getByRole('heading', { name: 'Not found' }).waitFor({ timeout: STEP_TIMEOUT });
    await open(page, base, '/usage');
    await page.getByTestId('usage-stats').waitFor({ timeout: STEP_TIMEOUT });
    const usage = Object.entries(await stats(page)).find(([label]) => label.startsWith('Invocations in'));
    if (!usage || usage[1] !== '0') throw new Error(`the developer's usage is not empty: ${usage}`);
  });

  await step('no uncaught errors in the page', async () => {
    if (consoleErrors.length > 0) throw new Error(consoleErrors.join('; '));
  });
}

async function cleanup() {
  await browser?.close().catch(() => {});
  for (const { child } of children.reverse()) {
    child.stopping = true;
    child.kill('SIGTERM');
  }
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.on('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  if (!results.some((r) => !r.ok)) log(`  FAIL setup: ${error instanceof Error ? error.message : String(error)}`);
  for (const { name, logFile } of children) {
    if (!fs.existsSync(logFile)) continue;
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15);
    log(`--- last lines of the ${name} log ---\n${lines.join('\n')}`);
  }
} finally {
  await cleanup();
  if (tmp && !failed) fs.rmSync(tmp, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
log(`${passed} passed, ${results.length - passed + (failed && results.every((r) => r.ok) ? 1 : 0)} failed`);
process.exit(failed ? 1 : 0);
