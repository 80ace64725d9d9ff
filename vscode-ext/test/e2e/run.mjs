// The end-to-end test: the packaged extension in code-server, driven through Chromium, against the real devgpu.
// Started by scripts/test-e2e.sh, which prepares the environment (E2E_* variables, HOME/XDG/TMPDIR in the work
// folder). Each step runs a command from the command palette and asserts on its effects; where the CLI's answer
// decides what the extension must show, the test asks the same devgpu binary directly and compares.
//
// Exit 0 when every assertion held. The screenshot of the final state is $E2E_WORK/artifacts/final.png (on a
// failure: failure.png), next to the DevGPU output channel (devgpu-output.log) and code-server's log.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT_DIR = path.resolve(HERE, '..', '..');
// The extension's own pure logic, compiled by tsc: the test computes what the UI must show from the CLI's JSON.
const { statusFromDoctor, countSummary } = require(path.join(EXT_DIR, 'out', 'src', 'core', 'status.js'));
const { checksOf } = require(path.join(EXT_DIR, 'out', 'src', 'core', 'types.js'));

const env = process.env;
const need = (k) => env[k] || fail(`${k} is not set (run this through scripts/test-e2e.sh)`);
const WORK = need('E2E_WORK');
const VSIX = need('E2E_VSIX');
const FIXTURE = need('E2E_FIXTURE');
const NODE24 = need('E2E_NODE24');
const CODE_SERVER = need('E2E_CODE_SERVER');
const CHROMIUM = need('E2E_CHROMIUM');
const DEVGPU = need('DEVGPU_BIN');
const ART = path.join(WORK, 'artifacts');
const USER_DATA = path.join(WORK, 'user-data');
const EXTENSIONS = path.join(WORK, 'extensions');
const WS = path.join(WORK, 'workspace', 'gpu-project');

const T0 = Date.now();
const log = (...a) => console.log(`[e2e +${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const results = [];
function fail(msg) {
  throw new Error(msg);
}
function check(cond, what) {
  results.push({ ok: !!cond, what });
  log(`${cond ? 'PASS' : 'FAIL'} ${what}`);
  if (!cond) fail(what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The real CLI's JSON answer, run the same way the extension runs it. */
function cli(args) {
  const r = spawnSync(DEVGPU, [...args, '--json'], { cwd: WS, encoding: 'utf8', timeout: 300_000 });
  let envelope;
  try {
    envelope = JSON.parse(r.stdout);
  } catch {
    envelope = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, envelope };
}

/** Whether this devgpu has a subcommand (doctor/verify/up are being written while this test exists). */
function hasSubcommand(name) {
  const r = spawnSync(DEVGPU, [name, '--help'], { encoding: 'utf8' });
  return r.status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

async function stopGroup(pid) {
  if (!pid || !groupAlive(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {}
  for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
  if (groupAlive(pid)) {
    log(`code-server group ${pid} ignored SIGTERM; SIGKILL`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
    for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
  }
}

function findFiles(dir, re) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && re.test(e.name))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** The DevGPU output channel as code-server logged it (exthost output_logging_*), or ''. */
function outputChannelText() {
  const files = findFiles(path.join(USER_DATA, 'logs'), /DevGPU\.log$/);
  return files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

async function main() {
  // ----- workspace, settings, extension -----------------------------------------------------------------------
  fs.mkdirSync(path.dirname(WS), { recursive: true });
  fs.cpSync(FIXTURE, WS, { recursive: true });
  fs.mkdirSync(path.join(USER_DATA, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(USER_DATA, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'chat.disableAIFeatures': true,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': false,
        'window.restoreWindows': 'none',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
      null,
      2,
    ),
  );
  // devgpu.path is machine-overridable: in code-server (a remote window) it is read from the Machine settings,
  // as it would be for a Remote-SSH user.
  fs.mkdirSync(path.join(USER_DATA, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(USER_DATA, 'Machine', 'settings.json'), JSON.stringify({ 'devgpu.path': DEVGPU }, null, 2));
  // For the cancel step, which points devgpu.path at the fake devgpu for a moment (the real one ignores these).
  const FAKE = path.join(EXT_DIR, 'test', 'fake-devgpu', 'devgpu');
  const FAKE_PIDS = path.join(WORK, 'fake-pids.json');
  const csEnv = { ...env, PATH: `${path.dirname(NODE24)}:${env.PATH}`, FAKE_DEVGPU_SCENARIO: 'hang', FAKE_DEVGPU_PIDFILE: FAKE_PIDS };
  const t = Date.now();
  const inst = spawnSync(NODE24, [CODE_SERVER, '--user-data-dir', USER_DATA, '--extensions-dir', EXTENSIONS, '--install-extension', VSIX], {
    env: csEnv,
    encoding: 'utf8',
  });
  fs.writeFileSync(path.join(ART, 'install-extension.log'), inst.stdout + inst.stderr);
  check(inst.status === 0 && /successfully installed/i.test(inst.stdout + inst.stderr), `the .vsix installs into code-server (${Date.now() - t} ms)`);
  check(fs.readdirSync(EXTENSIONS).some((d) => d.startsWith('devgpu.devgpu-')), 'the extension folder devgpu.devgpu-0.1.0 exists');

  // ----- code-server --------------------------------------------------------------------------------------------
  const port = await freePort();
  const csLog = fs.openSync(path.join(ART, 'code-server.log'), 'w');
  const cs = spawn(
    NODE24,
    [
      CODE_SERVER,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', USER_DATA,
      '--extensions-dir', EXTENSIONS,
      WS,
    ],
    { env: csEnv, detached: true, stdio: ['ignore', csLog, csLog] },
  );
  let browser;
  let page;
  try {
    const started = Date.now();
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (r.ok) break;
      } catch {}
      if (Date.now() - started > 60_000) fail('code-server did not answer /healthz within 60 s (see artifacts/code-server.log)');
      if (cs.exitCode !== null) fail(`code-server exited with ${cs.exitCode} (see artifacts/code-server.log)`);
      await sleep(100);
    }
    log(`code-server ${port} healthy after ${Date.now() - started} ms`);

    // ----- browser ------------------------------------------------------------------------------------------------
    browser = await chromium.launchPersistentContext(path.join(WORK, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(15_000);
    const consoleLog = fs.createWriteStream(path.join(ART, 'browser-console.log'));
    page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(WS)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForSelector('.statusbar', { timeout: 30_000 });
    await page.waitForSelector('.activitybar', { timeout: 30_000 });
    log('workbench up');

    const statusItem = page.locator('.statusbar-item', { has: page.locator('[aria-label^="DevGPU GPU host"]') }).or(page.locator('.statusbar-item[aria-label^="DevGPU GPU host"]')).first();
    await statusItem.waitFor({ state: 'visible', timeout: 30_000 });
    const statusText = async () => (await statusItem.innerText()).trim();
    check((await statusText()) === 'GPU ?', `the status bar item appears on startup as "GPU ?" (got "${await statusText()}")`);

    // ----- helpers on the page ------------------------------------------------------------------------------------
    const quickInput = page.locator('.quick-input-widget');
    const runCommand = async (title) => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = quickInput.locator('input').first();
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      await quickInput.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Enter');
      log(`ran "${title}" from the command palette`);
    };
    const toasts = page.locator('.notifications-toasts .notification-toast');
    /** The first toast whose message matches `re` (waits for it): its locator, message and button labels. */
    const waitToast = async (re, timeout = 30_000, what = String(re)) => {
      const end = Date.now() + timeout;
      let seen = [];
      for (;;) {
        // One snapshot of every toast, read in the page (locator reads would wait on toasts that are going away).
        seen = await page.evaluate(() =>
          [...document.querySelectorAll('.notifications-toasts .notification-toast')].map((t) => ({
            msg: (t.querySelector('.notification-list-item-message')?.textContent ?? '').trim(),
            buttons: [...t.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => (b.textContent ?? '').trim()),
          })),
        );
        const hit = seen.find((x) => re.test(x.msg));
        if (hit) {
          log(`toast: ${JSON.stringify(hit.msg)} [${hit.buttons.join(' | ')}]`);
          const toast = page
            .locator('.notifications-toasts .notification-toast', { has: page.locator('.notification-list-item-message', { hasText: hit.msg.slice(0, 80) }) })
            .first();
          return { toast, msg: hit.msg, buttons: hit.buttons };
        }
        if (Date.now() > end) fail(`no notification matching ${what} within ${timeout} ms; visible: ${JSON.stringify(seen.map((x) => x.msg))}`);
        await sleep(100);
      }
    };
    const clearNotifications = async () => {
      await runCommand('Notifications: Clear All Notifications');
      await page.waitForFunction(() => document.querySelectorAll('.notifications-toasts .notification-toast').length === 0, null, { timeout: 5000 }).catch(() => {});
    };
    const waitStatus = async (pred, timeout, what) => {
      const end = Date.now() + timeout;
      let last = '';
      while (Date.now() < end) {
        last = await statusText();
        if (pred(last)) return last;
        await sleep(100);
      }
      fail(`status bar never became ${what}; last "${last}"`);
    };
    const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

    // Focus the workbench so that key presses reach it.
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });

    // ----- 1. Check GPU Host --------------------------------------------------------------------------------------
    const doctorCli = cli(['doctor', WS]);
    const doctorChecks = doctorCli.envelope ? checksOf(doctorCli.envelope.data) : [];
    await runCommand('DevGPU: Check GPU Host');
    // doctor must answer with its checks (an error envelope here is a failure of the CLI or the extension).
    check(doctorCli.envelope && !doctorCli.envelope.error, `devgpu doctor answers with checks, not an error: ${JSON.stringify(doctorCli.envelope?.error ?? doctorCli.stdout?.slice(0, 200))}`);
    {
      check(doctorChecks.length > 0, `devgpu doctor returns checks (${doctorChecks.length})`);
      const expected = statusFromDoctor(doctorCli.envelope.data).text;
      const got = await waitStatus((s) => s !== 'GPU ?', 30_000, 'a doctor result');
      check(got === expected, `the status bar shows doctor's result: "${got}" (expected "${expected}")`);
      check(/^GPU [✓✗!] \S/.test(got), 'the status bar text has the form "GPU ✓ …" / "GPU ✗ …"');
      const anyBad = doctorChecks.some((c) => c.status === 'fail' || c.status === 'warn');
      const { buttons } = await waitToast(anyBad ? new RegExp(`^GPU host: ${escapeRe(countSummary(doctorChecks))}\\.`) : /^GPU host OK/, 30_000);
      check(buttons.includes('Show Checks'), 'the doctor notification offers "Show Checks"');
      if (anyBad) {
        // The quick pick of checks, failures first, fixes as detail.
        await toasts.locator('.monaco-button', { hasText: 'Show Checks' }).first().click();
        await quickInput.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible', timeout: 10_000 });
        // The list is virtualised: the row count is in aria-setsize; the first row is the first failure.
        const firstRow = quickInput.locator('.quick-input-list .monaco-list-row').first();
        const setSize = Number(await firstRow.getAttribute('aria-setsize'));
        check(setSize === doctorChecks.length, `the checks quick pick lists every check (${setSize}/${doctorChecks.length})`);
        const firstBad = doctorChecks.find((c) => c.status === 'fail') ?? doctorChecks.find((c) => c.status === 'warn');
        const firstText = (await firstRow.innerText()).replace(/\s+/g, ' ');
        check(firstText.includes(firstBad.summary.slice(0, 40)), `the quick pick starts with the first failing check (${firstBad.id})`);
        if (firstBad.fix) check(firstText.includes('fix:'), 'the failing check shows its fix');
        await page.screenshot({ path: path.join(ART, 'doctor-checks.png') });
        await page.keyboard.press('Escape');
      }
    }
    await clearNotifications();

    // ----- 2. Add GPU Dev Container Configuration -----------------------------------------------------------------
    const dcPath = path.join(WS, '.devcontainer', 'devcontainer.json');
    check(!fs.existsSync(dcPath), 'the fixture starts without .devcontainer/devcontainer.json');
    await runCommand('DevGPU: Add GPU Dev Container Configuration');
    const title = quickInput.locator('.quick-input-title');
    await page.waitForFunction(() => /\(1\/2\)/.test(document.querySelector('.quick-input-widget .quick-input-title')?.textContent ?? ''), null, { timeout: 30_000 });
    const recommended = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Use the recommended stack' }).first();
    await recommended.waitFor({ state: 'visible' });
    const stackRow = (await recommended.innerText()).replace(/\s+/g, ' ');
    check(/CUDA 12\.\d+(\.\d+)? \(\w+\) · Ubuntu \d\d\.\d\d · Python 3\.11 · PyTorch/.test(stackRow), `step 1 shows the dry run's stack: ${stackRow}`);
    await page.screenshot({ path: path.join(ART, 'init-step1.png') });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /\(2\/2\)/.test(document.querySelector('.quick-input-widget .quick-input-title')?.textContent ?? ''), null, { timeout: 30_000 });
    const writeRow = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Write the files' }).first();
    await writeRow.waitFor({ state: 'visible' });
    check(/create \.devcontainer\/devcontainer\.json/.test(await writeRow.innerText()), 'step 2 lists the files to create');
    log(`init step 2 title: ${(await title.innerText()).trim()}`);
    await page.keyboard.press('Enter');
    const end = Date.now() + 30_000;
    while (!fs.existsSync(dcPath) && Date.now() < end) await sleep(100);
    check(fs.existsSync(dcPath), 'init wrote .devcontainer/devcontainer.json in the workspace');
    const dc = fs.readFileSync(dcPath, 'utf8');
    check(/"--gpus", "all"/.test(dc), 'the written devcontainer.json requests the GPU (runArgs --gpus all)');
    check(fs.existsSync(path.join(WS, '.devcontainer', 'Dockerfile')), 'init wrote .devcontainer/Dockerfile');
    await waitToast(/^DevGPU: Created \.devcontainer\/devcontainer\.json/, 15_000);
    await page.waitForFunction(() => /devcontainer\.json/.test(document.querySelector('.tabs-container .tab.active')?.textContent ?? ''), null, { timeout: 15_000 });
    check(true, 'devcontainer.json is open in the active editor');
    const again = cli(['init', WS, '--dry-run']);
    check(again.envelope?.data?.files?.every((f) => f.action === 'unchanged'), 'a second devgpu init changes nothing (what the extension wrote is what the CLI writes)');
    await clearNotifications();

    // ----- 3. Start and Verify GPU Container ----------------------------------------------------------------------
    await runCommand('DevGPU: Start and Verify GPU Container');
    check(hasSubcommand('verify'), 'this devgpu has a `verify` subcommand');
    {
      const { toast, msg, buttons } = await waitToast(/^(Start and Verify GPU Container|GPU container verified)/, 300_000, 'a verify result');
      const direct = cli(['verify', WS]);
      log(`devgpu verify (direct): exit ${direct.status}, ${direct.stdout.slice(0, 300)}`);
      if (direct.envelope?.error) {
        // The message's first line is the CLI's verdict; the lines after it quote the failing step's output, which
        // differs from one build to the next (this direct run is a second build), so only the verdict must match.
        const verdict = direct.envelope.error.message.split('\n')[0];
        check(msg.includes(verdict), `the verify error shows the CLI's message: ${verdict}`);
      } else {
        const checks = checksOf(direct.envelope?.data);
        check(msg.includes(countSummary(checks)), `the verify notification counts the checks: ${countSummary(checks)}`);
      }
      if (buttons.includes('Show Logs')) await toast.locator('.monaco-button', { hasText: 'Show Logs' }).click();
      else await runCommand('DevGPU: Show Logs');
    }
    await page.locator('.part.panel').first().waitFor({ state: 'visible', timeout: 10_000 });
    check(true, '"Show Logs" opens the panel with the DevGPU output channel');
    await clearNotifications();

    // ----- 4. The status bar item runs Check GPU Host -------------------------------------------------------------
    await statusItem.click();
    await waitToast(/^(Check GPU Host failed|GPU host)/, 30_000, 'a doctor notification after clicking the status bar');
    check(true, 'clicking the status bar item runs Check GPU Host');
    await clearNotifications();

    // ----- 5. Cancel: a long run (the fake devgpu that hangs in a build) stopped from the notification -----------
    // The real devgpu fails this workspace's build in a second, too fast to cancel; the fake hangs with a child
    // process in its group, like a devgpu running `docker build`.
    const machineSettings = path.join(USER_DATA, 'Machine', 'settings.json');
    const setDevgpuPath = async (p) => {
      const before = outputChannelText().split('setting changed: devgpu.path').length;
      fs.writeFileSync(machineSettings, JSON.stringify({ 'devgpu.path': p }, null, 2));
      const end = Date.now() + 15_000;
      while (outputChannelText().split('setting changed: devgpu.path').length <= before) {
        if (Date.now() > end) fail(`VS Code did not pick up devgpu.path = ${p}`);
        await sleep(100);
      }
    };
    await setDevgpuPath(FAKE);
    await runCommand('DevGPU: Start and Verify GPU Container');
    const { toast: progressToast } = await waitToast(/building image \(1\/10\)/, 15_000, 'the progress notification with the fake\'s first event');
    check(true, "the progress notification shows the CLI's JSON Lines progress (\"building image (1/10)\")");
    const pids = JSON.parse(fs.readFileSync(FAKE_PIDS, 'utf8'));
    const alive = (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return e.code === 'EPERM';
      }
    };
    check(alive(pids.pid) && alive(pids.grandchild), 'the CLI and its child are running');
    await progressToast.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await waitToast(/^Start and Verify GPU Container: cancelled\./, 10_000);
    const gone = Date.now() + 5000;
    while ((alive(pids.pid) || alive(pids.grandchild)) && Date.now() < gone) await sleep(50);
    check(!alive(pids.pid) && !alive(pids.grandchild), 'Cancel ended the CLI and the child in its process group');
    await setDevgpuPath(DEVGPU);
    await clearNotifications();

    // ----- 6. Reopen in GPU Container (no Dev Containers extension in code-server) --------------------------------
    await runCommand('DevGPU: Reopen in GPU Container');
    const { buttons: reopenButtons } = await waitToast(
      /^Reopen in GPU Container needs the Dev Containers extension \(ms-vscode-remote\.remote-containers\), which is not installed\. Install it and run this command again, or by hand: run "devgpu up .*gpu-project", then "Dev Containers: Reopen in Container"/,
      30_000,
    );
    check(true, 'without the Dev Containers extension, Reopen says so and how to do it by hand');
    check(
      ['Install Dev Containers', 'Start Container Only', 'Show Manual Steps'].every((b) => reopenButtons.includes(b)),
      `the message offers Install Dev Containers / Start Container Only / Show Manual Steps (${reopenButtons.join(', ')})`,
    );

    // ----- the output channel -------------------------------------------------------------------------------------
    await sleep(500);
    const out = outputChannelText();
    fs.writeFileSync(path.join(ART, 'devgpu-output.log'), out);
    check(/using devgpu 0\.1\.\d+ at .*devgpu \(from the devgpu\.path setting\)/.test(out), 'the output channel names the CLI it found and its version');
    check(out.includes(`devgpu doctor ${WS} --json`), 'the output channel shows the doctor command line');
    check(/devgpu init: exit 0/.test(out), 'the output channel shows init finishing with exit 0');
    check(/Dev Containers extension not installed; steps to do by hand/.test(out), 'the output channel lists the manual steps');
    check(/cancel requested: stopping devgpu verify/.test(out) && /devgpu verify: cancelled after/.test(out), 'the output channel records the cancel');

    // ----- the GPU Checks view (Explorer) holds the last doctor run ----------------------------------------------
    if (doctorChecks.length > 0) {
      await page.locator('.pane-header', { hasText: 'GPU Checks' }).first().click();
      const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'GPU Checks' }) }).first();
      const root = view.locator('.monaco-list-row', { hasText: 'GPU host (doctor)' }).first();
      await root.waitFor({ state: 'visible', timeout: 10_000 });
      const rootText = (await root.innerText()).replace(/\s+/g, ' ');
      check(rootText.includes(countSummary(cli(['doctor', WS]).envelope.data.checks)), `the GPU Checks view shows the doctor run: ${rootText}`);
      const firstFail = view.locator('.monaco-list-row[aria-level="2"]').first();
      check(/\S/.test(await firstFail.innerText()), `the GPU Checks view lists the checks, failures first: ${(await firstFail.innerText()).replace(/\s+/g, ' ')}`);
    }

    await page.screenshot({ path: path.join(ART, 'final.png') });
    log(`screenshot: ${path.join(ART, 'final.png')}`);
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(ART, 'failure.png') }).catch(() => {});
    fs.writeFileSync(path.join(ART, 'devgpu-output.log'), outputChannelText());
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopGroup(cs.pid);
    fs.closeSync(csLog);
    check(!groupAlive(cs.pid), 'code-server and its extension host are gone after the test');
  }
}

main().then(
  () => {
    log(`OK: ${results.length} assertions passed`);
    process.exit(0);
  },
  (e) => {
    console.error(`[e2e] FAILED: ${e.stack ?? e}`);
    process.exit(1);
  },
);
