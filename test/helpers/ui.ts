// The Temporal UI (2.54) driven by headless chromium as an operator would: send a signal through a workflow's
// "Send a Signal" form, and read a workflow's page once the UI has decoded its payloads (through the codec
// server, when the UI has one). Each takes a picture.
import { sleep, typeJson, withPage, type Page } from '../../scripts/chromium-page';

const VIEWPORT = { width: 1280, height: 1000 };
const TIMEOUT_MS = 60_000;
/** The page holds two copies of each dialog (one per header layout): only the open one is ours. */
const SIGNAL_DIALOG = 'dialog[open][data-testid="signal-confirmation-modal"]';

export interface WorkflowPage {
  /** The UI's base URL, e.g. http://127.0.0.1:27234 */
  ui: string;
  namespace: string;
  workflowId: string;
  runId: string;
  /** Where the picture goes. */
  png: string;
}

const runUrl = (w: WorkflowPage, tab: 'history' | 'timeline') =>
  `${w.ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(w.namespace)}/workflows/${encodeURIComponent(w.workflowId)}/${encodeURIComponent(w.runId)}/${tab}`;

/** Marks the first visible element that matches the test, so that a CSS selector can reach it. */
async function mark(page: Page, selector: string, test: string, name: string, what: string): Promise<string> {
  await page.waitFor(
    `(() => {
      const el = [...document.querySelectorAll(${JSON.stringify(selector)})].find((el) => el.offsetParent && (${test})(el));
      el?.setAttribute('data-dr-mark', ${JSON.stringify(name)});
      return !!el;
    })()`,
    what,
  );
  return `[data-dr-mark="${name}"]`;
}

/**
 * More Actions → Send a Signal, picks the signal by name (the UI lists the workflow's signals; "Custom" is not
 * handled), types the JSON input, submits, and confirms from the page: the UI's signal request answered 200 and
 * its toast "Workflow signaled.".
 */
export async function signalThroughUi(w: WorkflowPage & { signal: string; input: unknown }): Promise<{ png: string }> {
  return withPage(
    { viewport: VIEWPORT, timeoutMs: TIMEOUT_MS },
    async (page) => {
      await page.open(runUrl(w, 'timeline'));
      // On a busy machine the page may take a click before it is ready for it: open the menu again until the dialog is up.
      for (let attempt = 1; ; attempt++) {
        await page.click(await mark(page, 'button', `(b) => b.textContent.trim() === 'More Actions'`, 'more-actions', 'the More Actions button'));
        await sleep(200);
        await page.click(await mark(page, '[data-testid="signal-button"]', '() => true', 'send-signal', 'the Send a Signal item'));
        const open = await page.waitFor(`!!document.querySelector(${JSON.stringify(SIGNAL_DIALOG)})`, 'the Send a Signal dialog', 5000).then(
          () => true,
          (err: Error) => (attempt < 4 ? false : Promise.reject(err)),
        );
        if (open) break;
        await page.eval('document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }))');
      }
      const select = `${SIGNAL_DIALOG} [data-testid="signal-select-button"]`;
      await page.click(select);
      await page.waitFor(`document.querySelector(${JSON.stringify(select)}).getAttribute('aria-expanded') === 'true'`, 'the signal list to open');
      await sleep(300); // the list fades in (100 ms); a click before it is visible goes nowhere
      const option = `(li) => li.querySelector('span')?.textContent.trim() === ${JSON.stringify(w.signal)}`;
      await page.click(
        await mark(page, `${SIGNAL_DIALOG} li[role="option"]`, option, 'signal-option', `signal '${w.signal}' among the UI's choices`),
      );
      const field = `document.querySelector(${JSON.stringify(`${SIGNAL_DIALOG} #signal-select`)}).value`;
      await page.waitFor(`${field} === ${JSON.stringify(w.signal)}`, `'${w.signal}' in the signal name field`, 5000).catch(async () => {
        throw new Error(`the signal name field holds '${await page.eval<string>(field)}', not '${w.signal}'`);
      });
      await typeJson(page, `${SIGNAL_DIALOG} .cm-content[contenteditable="true"]`, JSON.stringify(w.input));
      const signalPath = `/workflows/${encodeURIComponent(w.workflowId)}/signal/${encodeURIComponent(w.signal)}`;
      const answered = page.answer((method, url) => method === 'POST' && new URL(url).pathname.endsWith(signalPath));
      await page.click(`${SIGNAL_DIALOG} [data-testid="confirm-modal-button"]`);
      const answer = await Promise.race([answered, sleep(20_000).then(() => null)]);
      if (!answer) throw new Error(`the UI sent no signal request (POST …${signalPath}) within 20 s of Submit`);
      if (answer.status !== 200) throw new Error(`the UI's signal request was refused: HTTP ${answer.status}: ${answer.body.trim()}`);
      await page.waitFor(`/Workflow signaled/.test(document.body.innerText)`, 'the "Workflow signaled." toast', 10_000);
      return { png: await page.screenshot(w.png) };
    },
    (page) => page.screenshot(w.png.replace(/(\.png)?$/i, '-error.png')),
  );
}

/**
 * The run's Event History page as text, once the UI has settled on its payloads: its codec status shows
 * success or error (the UI shows undecoded payloads after an error), and the input is drawn.
 */
export async function historyThroughUi(w: WorkflowPage): Promise<{ text: string; codec: 'success' | 'error' | 'none'; png: string }> {
  return withPage(
    { viewport: VIEWPORT, timeoutMs: TIMEOUT_MS },
    async (page) => {
      await page.open(runUrl(w, 'history'));
      await page.waitFor(`/Event History/.test(document.body.innerText) && /Input/.test(document.body.innerText)`, 'the Event History page');
      // The status icon by the namespace: success or error once a payload went through the codec endpoint.
      const codec = await page
        .waitFor<string>(
          `document.querySelector('[data-testid="data-encoder-status-success"]') ? 'success' : document.querySelector('[data-testid="data-encoder-status-error"]') ? 'error' : ''`,
          'the codec status',
          10_000,
        )
        .catch(() => 'none' as const);
      await sleep(1000); // the event rows draw after the summary
      return {
        text: await page.eval<string>('document.body.innerText'),
        codec: codec as 'success' | 'error' | 'none',
        png: await page.screenshot(w.png),
      };
    },
    (page) => page.screenshot(w.png.replace(/(\.png)?$/i, '-error.png')),
  );
}
