// Starts a workflow the way an operator does: through the Temporal UI's "Start a Workflow" form, in headless chromium
// driven over the DevTools protocol on a pipe (no npm browser driver, nothing downloaded). It fills Workflow ID, Task
// Queue, Workflow Type and the JSON input (a CodeMirror editor), takes a picture of the filled form, presses
// "Start Workflow", reads the run id from the UI's answer and confirms it with `temporal workflow describe`.
//
//   npx tsx scripts/ui-start-workflow.ts --ui http://198.18.0.4:8233 --namespace default --task-queue dr-control \
//     --type drill --workflow-id drill-trading --input '{"group":"trading","scenario":"power-loss",...}' [--png FILE]
//
// Prints {started, workflowId, runId, ui, screenshots}; on failure one line on stderr and exit 1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep, typeJson, withPage, type Answer, type Page } from './chromium-page';

const ROOT = resolve(__dirname, '..');
const VIEWPORT = { width: 1280, height: 1000 };
const TIMEOUT_MS = 90_000;
const USAGE =
  'usage: npx tsx scripts/ui-start-workflow.ts --ui URL --namespace NS --task-queue QUEUE --type WORKFLOW_TYPE --workflow-id ID --input JSON ' +
  '[--png FILE] [--address HOST:PORT] [--tls-ca-path FILE --tls-cert-path FILE --tls-key-path FILE] [--temporal BIN] [--dry-run]';

interface Options {
  ui: string;
  namespace: string;
  taskQueue: string;
  type: string;
  workflowId: string;
  input: string;
  /** Base of the screenshots: <base>-filled.png, <base>-started.png, <base>-workflow.png. */
  png: string;
  /** The frontend `temporal workflow describe` asks; default the UI's host on 7233. */
  address: string;
  /** The `temporal` CLI's TLS flags for that address (the lab's Temporal requires a client certificate). */
  tls: string[];
  temporal: string;
  /** Fill the form and photograph it, but do not press Start. */
  dryRun: boolean;
}

interface Outcome {
  started: boolean;
  workflowId: string;
  runId: string;
  ui: string;
  screenshots: string[];
}

class Failure extends Error {
  screenshots: string[] = [];
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      ui: { type: 'string' },
      namespace: { type: 'string', default: 'default' },
      'task-queue': { type: 'string' },
      type: { type: 'string' },
      'workflow-id': { type: 'string' },
      input: { type: 'string', default: '' },
      png: { type: 'string' },
      address: { type: 'string' },
      'tls-ca-path': { type: 'string' },
      'tls-cert-path': { type: 'string' },
      'tls-key-path': { type: 'string' },
      temporal: { type: 'string', default: join(ROOT, '.venv/bin/temporal') },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const missing = ['ui', 'task-queue', 'type', 'workflow-id'].filter((name) => !values[name as keyof typeof values]);
  if (missing.length) throw new Error(`missing --${missing.join(', --')}; ${USAGE}`);
  const ui = values.ui!.replace(/\/+$/, '');
  if (values.input) {
    try {
      JSON.parse(values.input);
    } catch (err) {
      throw new Error(`--input is not JSON: ${(err as Error).message}`);
    }
  }
  const workflowId = values['workflow-id']!;
  const png = (values.png ?? join(ROOT, 'reports/ui-start-workflow', workflowId)).replace(/\.png$/i, '');
  return {
    ui,
    namespace: values.namespace!,
    taskQueue: values['task-queue']!,
    type: values.type!,
    workflowId,
    input: values.input!,
    png: resolve(png),
    address: values.address ?? `${new URL(ui).hostname}:7233`,
    tls: (['tls-ca-path', 'tls-cert-path', 'tls-key-path'] as const).flatMap((flag) => (values[flag] ? [`--${flag}`, values[flag]] : [])),
    temporal: values.temporal!,
    dryRun: values['dry-run']!,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the form

/** The start form's fields (Temporal UI 2.x, src/lib/pages/start-workflow.svelte). */
const FIELD = { workflowId: '#workflowId', taskQueue: '#taskQueue', workflowType: '#workflowType' } as const;
const START_BUTTON = '[data-testid="start-workflow-button"]';
/** The Input payload: a CodeMirror 6 editor (holocene CodeBlock), the only one until "More options" is opened. */
const INPUT_EDITOR = '.cm-content[contenteditable="true"]';

async function fill(page: Page, o: Options): Promise<void> {
  const values = { workflowId: o.workflowId, taskQueue: o.taskQueue, workflowType: o.type };
  for (const [field, value] of Object.entries(values) as [keyof typeof FIELD, string][]) {
    await page.type(FIELD[field], value);
    // Blur: the form copies the value into the URL and, for the task queue, looks up its pollers.
    await page.eval(`document.querySelector(${JSON.stringify(FIELD[field])}).blur()`);
    const now = await page.eval<string>(`document.querySelector(${JSON.stringify(FIELD[field])}).value`);
    if (now !== value) throw new Error(`${FIELD[field]} holds ${JSON.stringify(now)} after typing ${JSON.stringify(value)}`);
  }
  if (o.input) await typeJson(page, INPUT_EDITOR, o.input);
}

/** Why the Start button is disabled: the UI's settings and the form's visible alerts (hidden ones, like the closed
 * "Temporal News" dialog's "Failed to fetch" on a UI without internet, are left out). */
async function whyDisabled(page: Page, o: Options): Promise<string> {
  const settings = await page.eval<Record<string, unknown> | null>(
    `fetch(${JSON.stringify(`${o.ui}/api/v1/settings`)}).then((r) => r.json()).catch(() => null)`,
  );
  const flags = settings
    ? ['StartWorkflowDisabled', 'DisableWriteActions'].map((key) => `${key}=${String(settings[key])}`).join(' ')
    : 'settings unreadable';
  const hint = await page.eval<string>(
    `[...document.querySelectorAll('[role=alert]')].filter((e) => e.offsetParent).map((e) => e.textContent.trim()).filter(Boolean).join(' | ')`,
  );
  return `the Start Workflow button is disabled (${flags}${hint ? `; form says: ${hint}` : ''})`;
}

/** The success toast's link to the new run ("Workflow started successfully"; UI 2.54 links its timeline), or null. */
const toastLink = (workflowId: string) => `[...document.querySelectorAll('a[href]')]
  .filter((a) => a.getAttribute('href').includes(${JSON.stringify(`/workflows/${encodeURIComponent(workflowId)}/`)}) && /started/i.test(a.textContent))
  .map((a) => a.getAttribute('href'))[0] ?? null`;

/** What the UI's server answered to the start (POST /api/v1/namespaces/<ns>/workflows/<id>): the run id, or why not. */
function startAnswer(answer: Answer): string {
  let body: { runId?: string; message?: string } = {};
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {}
  if (answer.status >= 200 && answer.status < 300 && body.runId) return body.runId;
  const why = body.message ?? (answer.body.trim() || 'no answer');
  throw new Error(`the UI refused the start: ${answer.status ? `HTTP ${answer.status}: ` : ''}${why}`);
}

interface Described {
  runId: string;
  status: string;
}

function describe(o: Options): Described {
  let out: string;
  try {
    out = execFileSync(
      o.temporal,
      ['workflow', 'describe', '--address', o.address, ...o.tls, '--namespace', o.namespace, '--workflow-id', o.workflowId, '-o', 'json'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 15_000,
      },
    );
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`temporal workflow describe ${o.workflowId} failed: ${stderr.split('\n').pop() || (err as Error).message}`);
  }
  const info = (JSON.parse(out) as { workflowExecutionInfo?: { execution?: { runId?: string }; status?: string } }).workflowExecutionInfo;
  return { runId: info?.execution?.runId ?? '', status: info?.status ?? '' };
}

async function startFromUi(page: Page, o: Options, shots: string[]): Promise<Outcome> {
  const formUrl = `${o.ui}/namespaces/${encodeURIComponent(o.namespace)}/workflows/start-workflow`;
  await page.open(formUrl);
  await page.waitFor(
    `!!document.querySelector(${JSON.stringify(FIELD.workflowId)}) && !!document.querySelector(${JSON.stringify(START_BUTTON)})`,
    `the start form at ${formUrl}`,
  );
  await fill(page, o);
  // The form looks the task queue's pollers up on blur: let its banner settle before the picture.
  await page.waitFor(`/Task Queue is (Active|Inactive)/.test(document.body.innerText)`, 'the task queue banner', 5000).catch(() => undefined);
  shots.push(await page.screenshot(`${o.png}-filled.png`));

  if (await page.eval<boolean>(`document.querySelector(${JSON.stringify(START_BUTTON)}).disabled`)) throw new Error(await whyDisabled(page, o));
  if (o.dryRun) return { started: false, workflowId: o.workflowId, runId: '', ui: await page.eval<string>('location.href'), screenshots: shots };
  const startPath = `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/workflows/${encodeURIComponent(o.workflowId)}`;
  const answered = page.answer((method, url) => method === 'POST' && new URL(url).pathname.endsWith(startPath));
  await page.click(START_BUTTON);
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`the UI sent no start request (POST ${startPath}) within 30 s of the click`)), 30_000)),
  );
  const answer = await Promise.race([answered, silent]).finally(() => clearTimeout(timer));
  // The toast (success) or the form's alert (failure) follows the answer. (Not any [role=alert]: the page holds
  // several hidden ones, e.g. its "Temporal News" dialog's "Failed to fetch" when the UI has no internet.)
  const link = answer.status === 200 ? await page.waitFor<string>(toastLink(o.workflowId), 'the toast', 5000).catch(() => null) : null;
  await sleep(answer.status === 200 ? 500 : 1500); // the toast slides in
  shots.push(await page.screenshot(`${o.png}-started.png`));
  const runId = startAnswer(answer);
  const described = describe(o);
  if (described.runId !== runId) throw new Error(`the UI started run ${runId} but the server's current run of ${o.workflowId} is ${described.runId}`);

  // The run's page, where the toast's link leads.
  const ui = new URL(
    link ?? `/namespaces/${encodeURIComponent(o.namespace)}/workflows/${encodeURIComponent(o.workflowId)}/${encodeURIComponent(runId)}/history`,
    o.ui,
  ).href;
  await page.open(ui);
  await page
    .waitFor(
      `(() => { const t = document.body.innerText; return t.includes('Run ID') && t.includes('Input') && t.includes(${JSON.stringify(o.type)}); })()`,
      'the workflow page',
      20_000,
    )
    .catch(() => undefined);
  await sleep(1000);
  shots.push(await page.screenshot(`${o.png}-workflow.png`));
  return { started: true, workflowId: o.workflowId, runId, ui, screenshots: shots };
}

async function main(): Promise<Outcome> {
  const o = options();
  if (!existsSync(o.temporal)) throw new Error(`temporal CLI not found at ${o.temporal} (--temporal): run scripts/install.sh`);
  const shots: string[] = [];
  try {
    // On a failure, a picture of where it stopped.
    return await withPage(
      { viewport: VIEWPORT, timeoutMs: TIMEOUT_MS },
      (page) => startFromUi(page, o, shots),
      async (page) => shots.push(await page.screenshot(`${o.png}-error.png`)),
    );
  } catch (err) {
    const failure = new Failure((err as Error).message);
    failure.screenshots = shots;
    throw failure;
  }
}

main().then(
  (outcome) => console.log(JSON.stringify(outcome, null, 2)),
  (err: Error) => {
    const shots = err instanceof Failure && err.screenshots.length ? ` (screenshots: ${err.screenshots.join(', ')})` : '';
    console.error(`ui-start-workflow: ${err.message.replace(/\s*\n\s*/g, ' ')}${shots}`);
    process.exitCode = 1;
  },
);
