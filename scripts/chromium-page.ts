// One chromium tab as a page object (evaluate, wait for, type, click, listen, photograph) and a session that
// launches chromium, hands a tab to the work and always closes it: shared by the UI scripts and the UI tests.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM, DevTools, close, launch, tail } from './chromium';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Answer {
  /** HTTP status; 0 when the request failed outright. */
  status: number;
  body: string;
}

/** One tab: evaluate, wait for, type into, click, listen and photograph. */
export class Page {
  readonly errors: string[] = [];
  private loaded = () => {};

  constructor(
    private readonly cdp: DevTools,
    private readonly sessionId: string,
  ) {
    cdp.on((method, params, from) => {
      if (from !== sessionId) return;
      if (method === 'Page.loadEventFired') this.loaded();
      else if (method === 'Runtime.exceptionThrown')
        this.errors.push(`page error: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`);
      else if (method === 'Runtime.consoleAPICalled' && params.type === 'error')
        this.errors.push(
          `console.error: ${params.args.map((arg: { value?: unknown; description?: string }) => arg.value ?? arg.description).join(' ')}`,
        );
      else if (method === 'Network.requestWillBeSent')
        this.requests.set(params.requestId, { method: params.request.method, url: params.request.url });
      else if (method === 'Network.responseReceived') {
        const request = this.requests.get(params.requestId);
        if (request) request.status = params.response.status;
      } else if (method === 'Network.loadingFinished' || method === 'Network.loadingFailed') this.finished(params.requestId, params.errorText);
    });
  }

  private readonly requests = new Map<string, { method: string; url: string; status?: number }>();
  private readonly waiting: { match: (method: string, url: string) => boolean; resolve: (answer: Answer) => void }[] = [];

  /** The answer to the next request the page sends that matches (Network must be enabled). */
  answer(match: (method: string, url: string) => boolean): Promise<Answer> {
    return new Promise((resolve) => this.waiting.push({ match, resolve }));
  }

  private finished(requestId: string, errorText?: string): void {
    const request = this.requests.get(requestId);
    this.requests.delete(requestId);
    const index = request ? this.waiting.findIndex((w) => w.match(request.method, request.url)) : -1;
    if (!request || index < 0) return;
    const [waiter] = this.waiting.splice(index, 1);
    if (errorText) return waiter!.resolve({ status: 0, body: errorText });
    this.send('Network.getResponseBody', { requestId }).then(
      ({ body, base64Encoded }) =>
        waiter!.resolve({ status: request.status ?? 0, body: base64Encoded ? Buffer.from(body, 'base64').toString() : body }),
      (err: Error) => waiter!.resolve({ status: request.status ?? 0, body: err.message }),
    );
  }

  send(method: string, params: object = {}): Promise<any> {
    return this.cdp.send(method, params, this.sessionId);
  }

  async open(url: string): Promise<void> {
    const load = new Promise<void>((resolve) => (this.loaded = resolve));
    const navigation = await this.send('Page.navigate', { url });
    if (navigation.errorText) throw new Error(`chromium could not open ${url}: ${navigation.errorText}`);
    await load;
  }

  /** The value of a JS expression in the page (promises awaited). */
  async eval<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  }

  /** Polls the expression until it is truthy; the error names what was awaited. */
  async waitFor<T>(expression: string, what: string, ms = 20_000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const value = await this.eval<T>(expression);
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await sleep(250);
    }
  }

  /** Focuses the element, selects what it holds and types the text over it (input events, as a keyboard would). */
  async type(selector: string, text: string): Promise<void> {
    const found = await this.eval<boolean>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return false;
      el.scrollIntoView({ block: 'center' });
      el.focus();
      if (typeof el.select === 'function') el.select();
      else document.getSelection().selectAllChildren(el);
      return true;
    })()`);
    if (!found) throw new Error(`no ${selector} on the form`);
    await this.send('Input.insertText', { text });
  }

  /** A real mouse click in the middle of the element. */
  async click(selector: string): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`);
    if (!box) throw new Error(`no ${selector} to click`);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
      await this.send('Input.dispatchMouseEvent', { type, ...box, button: 'left', clickCount: type === 'mouseMoved' ? 0 : 1 });
  }

  /** The whole page at 1 CSS pixel per pixel. */
  async screenshot(file: string): Promise<string> {
    const metrics = await this.send('Page.getLayoutMetrics');
    const size = metrics.cssContentSize ?? metrics.contentSize;
    const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip });
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(data as string, 'base64'));
    return file;
  }
}

/** What a CodeMirror 6 editor holds: its EditorView's document when reachable, else the text of its lines. */
const editorText = (editor: string) => `(() => {
  const el = document.querySelector(${JSON.stringify(editor)});
  if (!el) return null;
  const view = el.cmView?.view ?? el.cmView?.rootView?.view;
  if (view?.state?.doc) return view.state.doc.toString();
  return [...el.querySelectorAll('.cm-line')].map((line) => line.textContent).join('\\n');
})()`;

/** Types JSON into a CodeMirror 6 editor (the Temporal UI's input fields) and checks that it holds that JSON. */
export async function typeJson(page: Page, editor: string, json: string): Promise<void> {
  // Pretty-printed, as an operator would paste it; one insertText is one edit (no auto-closed brackets).
  await page.type(editor, JSON.stringify(JSON.parse(json), null, 2));
  await page.eval(`document.querySelector(${JSON.stringify(editor)}).blur()`);
  const held = await page.eval<string | null>(editorText(editor));
  let same = false;
  try {
    same = JSON.stringify(JSON.parse(held ?? '')) === JSON.stringify(JSON.parse(json));
  } catch {}
  if (!same) throw new Error(`the editor ${editor} holds ${JSON.stringify(held)}, not the JSON given`);
}

/**
 * Runs the work in a fresh tab of a fresh headless chromium, closed afterwards whatever happens. On a failure,
 * `onFailure` may still use the page (e.g. for a picture of where it stopped); the page's last errors join the
 * message.
 */
export async function withPage<T>(
  options: { viewport: { width: number; height: number }; timeoutMs: number },
  work: (page: Page) => Promise<T>,
  onFailure?: (page: Page) => Promise<unknown>,
): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/install.sh`);
  const profile = mkdtempSync(join(tmpdir(), 'dr-chromium-'));
  const browser = launch(profile, options.viewport);
  const cdp = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
  const stderr = tail(browser);
  const died = new Promise<never>((_, reject) => {
    browser.once('error', (err) => reject(new Error(`chromium did not start: ${err.message}`)));
    browser.once('exit', (code, signal) => reject(new Error(`chromium exited (${code ?? signal}): ${stderr().trim().split('\n').pop() ?? ''}`)));
  });
  died.catch(() => undefined); // after a normal close, nobody waits for this any more
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${options.timeoutMs} ms`)), options.timeoutMs)),
  );
  let page: Page | undefined;
  try {
    const session = (async () => {
      const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
      page = new Page(cdp, sessionId);
      await Promise.all(['Runtime.enable', 'Page.enable', 'Network.enable'].map((method) => page!.send(method)));
      await page.send('Emulation.setDeviceMetricsOverride', { ...options.viewport, deviceScaleFactor: 1, mobile: false });
      return work(page);
    })();
    return await Promise.race([session, died, timeout]);
  } catch (err) {
    if (page && onFailure && browser.exitCode === null) await onFailure(page).catch(() => undefined);
    const errors = page?.errors.length ? ` [page: ${page.errors.slice(-2).join('; ')}]` : '';
    throw new Error((err as Error).message + errors);
  } finally {
    clearTimeout(timer);
    await close(browser, cdp);
    rmSync(profile, { recursive: true, force: true });
  }
}
