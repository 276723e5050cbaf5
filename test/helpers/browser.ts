// Opens a report in Debian's chromium, headless, driven over the DevTools protocol on a pipe (no port, no npm
// browser driver, nothing downloaded): what the page logged as errors, what it tried to fetch (refused), a
// full-page PNG, and which of its parts are on screen. A missing chromium fails the test with the fix.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM, DevTools, close, launch, tail, withTimeout } from '../../scripts/chromium';

export { CHROMIUM };
import { pathToFileURL } from 'node:url';

const VIEWPORT = { width: 1200, height: 900 };
/** The parts of a drill report a reader must see. */
const CHECKED = ['timeline', 'objectives', 'write-stream', 'trend'];
const RENDER_TIMEOUT_MS = 60_000;

export interface BrowserRender {
  /** Console errors, uncaught exceptions and error log entries (a refused resource, a CSP violation). */
  errors: string[];
  /** Every request to anything but file:, data:, about: or blob:, each refused before it left. */
  requests: string[];
  /** Element id → present, displayed and of non-zero size. */
  present: Record<string, boolean>;
  png: string;
  bytes: number;
}

export async function renderInBrowser(htmlFile: string, pngFile: string): Promise<BrowserRender> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/install.sh`);
  if (!existsSync(htmlFile)) throw new Error(`no such report: ${htmlFile}`);
  const profile = mkdtempSync(join(tmpdir(), 'dr-chromium-'));
  const browser = launch(profile, VIEWPORT);
  const cdp = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
  const stderr = tail(browser);
  const died = new Promise<never>((_, reject) => {
    browser.once('error', (err) => reject(new Error(`chromium did not start: ${err.message}`)));
    browser.once('exit', (code, signal) => reject(new Error(`chromium exited (${code ?? signal}) before the page was rendered:\n${stderr()}`)));
  });
  died.catch(() => undefined); // after a normal close, nobody waits for this any more
  try {
    return await withTimeout(Promise.race([inspect(cdp, htmlFile, pngFile), died]), RENDER_TIMEOUT_MS, `rendering ${htmlFile}`);
  } finally {
    await close(browser, cdp);
    rmSync(profile, { recursive: true, force: true });
  }
}

const isLocal = (url: string) => /^(file|data|about|blob):/i.test(url);

/** Opens the file in a fresh tab, waits for its load and fonts, then checks the parts and takes the picture. */
async function inspect(cdp: DevTools, htmlFile: string, pngFile: string): Promise<BrowserRender> {
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method: string, params: object = {}) => cdp.send(method, params, sessionId);
  const seen = watch(cdp, sessionId, page);
  await Promise.all(['Runtime.enable', 'Log.enable', 'Network.enable', 'Page.enable'].map((method) => page(method)));
  // Every request pauses here first: local ones go on, anything else is refused and recorded.
  await page('Fetch.enable', { patterns: [{ urlPattern: '*' }] });
  await page('Emulation.setDeviceMetricsOverride', { ...VIEWPORT, deviceScaleFactor: 1, mobile: false });
  const navigation = await page('Page.navigate', { url: pathToFileURL(htmlFile).href });
  if (navigation.errorText) throw new Error(`chromium could not open ${htmlFile}: ${navigation.errorText}`);
  await seen.loaded;
  await page('Runtime.evaluate', { expression: 'document.fonts.ready.then(() => true)', awaitPromise: true });
  const present = await visibleParts(page);
  const png = await screenshot(page, pngFile);
  return { errors: seen.errors, requests: [...seen.requests], present, png: pngFile, bytes: png.length };
}

/** What the page does that the test asserts on: errors, requests leaving the machine, and its load. */
function watch(cdp: DevTools, sessionId: string, page: (method: string, params?: object) => Promise<any>) {
  const errors: string[] = [];
  const requests = new Set<string>();
  let loaded = () => {};
  const load = new Promise<void>((resolve) => (loaded = resolve));
  cdp.on((method, params, from) => {
    if (from !== sessionId) return;
    if (method === 'Page.loadEventFired') loaded();
    else if (method === 'Runtime.exceptionThrown')
      errors.push(`page error: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`);
    else if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert'))
      errors.push(
        `console.${params.type}: ${params.args.map((arg: { value?: unknown; description?: string }) => arg.value ?? arg.description).join(' ')}`,
      );
    else if (method === 'Log.entryAdded' && params.entry.level === 'error')
      errors.push(`${params.entry.source}: ${params.entry.text}${params.entry.url ? ` (${params.entry.url})` : ''}`);
    else if (method === 'Network.requestWillBeSent' && !isLocal(params.request.url)) requests.add(params.request.url);
    else if (method === 'Network.webSocketCreated') requests.add(params.url);
    else if (method === 'Fetch.requestPaused') {
      const local = isLocal(params.request.url);
      if (!local) requests.add(params.request.url);
      const answer = local
        ? page('Fetch.continueRequest', { requestId: params.requestId })
        : page('Fetch.failRequest', { requestId: params.requestId, errorReason: 'BlockedByClient' });
      answer.catch(() => undefined); // the page may be gone already
    }
  });
  return { errors, requests, loaded: load };
}

async function visibleParts(page: (method: string, params?: object) => Promise<any>): Promise<Record<string, boolean>> {
  const expression = `Object.fromEntries(${JSON.stringify(CHECKED)}.map((id) => {
    const element = document.getElementById(id);
    if (!element) return [id, false];
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return [id, box.width > 0 && box.height > 0 && style.display !== 'none' && style.visibility !== 'hidden'];
  }))`;
  const { result, exceptionDetails } = await page('Runtime.evaluate', { expression, returnByValue: true });
  if (exceptionDetails) throw new Error(`checking the page's parts failed: ${exceptionDetails.text}`);
  return result.value as Record<string, boolean>;
}

/** The whole page, not just the viewport, at 1 CSS pixel per pixel. */
async function screenshot(page: (method: string, params?: object) => Promise<any>, pngFile: string): Promise<Buffer> {
  const metrics = await page('Page.getLayoutMetrics');
  const size = metrics.cssContentSize ?? metrics.contentSize;
  const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
  const { data } = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip });
  const png = Buffer.from(data as string, 'base64');
  mkdirSync(dirname(pngFile), { recursive: true });
  writeFileSync(pngFile, png);
  return png;
}
