// Debian's chromium, headless, driven over the DevTools protocol on a pipe: no port, no npm browser driver,
// nothing downloaded. Shared by the report's browser test and the UI start script.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

export function launch(profile: string, viewport: { width: number; height: number }): ChildProcess {
  const args = [
    '--headless=new',
    '--remote-debugging-pipe',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--hide-scrollbars',
    '--mute-audio',
    '--force-color-profile=srgb',
    `--window-size=${viewport.width},${viewport.height}`,
    `--user-data-dir=${profile}`,
    'about:blank',
  ];
  // Chromium's sandbox refuses to run as root.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  // fd 3 is what chromium reads commands from, fd 4 where it answers.
  return spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
}

/** The last lines chromium wrote to stderr, for the error when it dies. */
export function tail(browser: ChildProcess): () => string {
  let text = '';
  browser.stderr?.setEncoding('utf8');
  browser.stderr?.on('data', (chunk: string) => (text = (text + chunk).slice(-4000)));
  return () => text;
}

type Listener = (method: string, params: any, sessionId: string | undefined) => void;

/** The DevTools protocol on chromium's pipe: JSON messages, each ended by a NUL byte. */
export class DevTools {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: any) => void; reject: (err: Error) => void; method: string }>();
  private readonly listeners: Listener[] = [];
  private buffer = '';

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    input.on('error', () => undefined); // a write after chromium exited: its exit is the error we report
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
      const message = JSON.parse(this.buffer.slice(0, end)) as {
        id?: number;
        method?: string;
        params?: unknown;
        sessionId?: string;
        result?: unknown;
        error?: { message: string };
      };
      this.buffer = this.buffer.slice(end + 1);
      if (message.id === undefined) {
        for (const listener of this.listeners) listener(message.method ?? '', message.params, message.sessionId);
        continue;
      }
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting?.resolve(message.result);
    }
  }
}

/** Asks chromium to close; if it has not gone within 5 s, kills the process. */
export async function close(browser: ChildProcess, cdp: DevTools): Promise<void> {
  if (browser.exitCode !== null || browser.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => browser.once('exit', () => resolve()));
  cdp.send('Browser.close').catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 5000)));
  if ((await Promise.race([exited, late])) === 'late') {
    browser.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer from chromium within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
