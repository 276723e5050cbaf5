// Notices to people: Slack-compatible incoming webhooks and e-mail over SMTP. One failed target does not
// stop the others; the activity fails (and Temporal retries it) only when every target failed.
// Webhook URLs and SMTP passwords are secret references resolved here, and scrubbed from every message.
import nodemailer from 'nodemailer';
import { SECRET_REF, type Config } from '../config/schema';
import { resolveSecret } from './secrets';

export type NotificationsConfig = Config['notifications'];
export type WebhookTarget = NotificationsConfig['webhooks'][number];
export type EmailTarget = NotificationsConfig['email'][number];
export type Severity = 'info' | 'warning' | 'critical';

export interface Notice {
  title: string;
  severity: Severity;
  text: string;
  fields?: Record<string, string>;
  /** Also send to notifications.escalateTo, and say that it is an escalation. */
  escalate?: boolean;
}

export interface NoticeResult {
  target: string;
  kind: 'webhook' | 'email' | 'unknown';
  ok: boolean;
  /** Reached only because of escalateTo (not among the targets asked for). */
  escalation: boolean;
  error?: string;
  messageId?: string;
  /** E-mail recipients the server refused while it accepted others. */
  rejected?: string[];
}

export class NoticeError extends Error {
  override name = 'NoticeError';
  constructor(
    message: string,
    readonly results: NoticeResult[],
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

/**
 * Sends `notice` to `targets` (names from notifications.webhooks / .email; default: all of them except the
 * ones named in notifications.escalateTo), plus the escalateTo targets when notice.escalate is set.
 * Never throws for a partial failure: the results say which targets failed. Throws NoticeError when every
 * target failed, so that Temporal retries the activity.
 */
export async function sendNotice(opts: {
  notifications: NotificationsConfig;
  baseDir: string;
  notice: Notice;
  targets?: string[];
}): Promise<NoticeResult[]> {
  const { notifications: n, notice } = opts;
  // By default every target except those kept for escalations.
  const asked = opts.targets ?? [...n.webhooks.map((w) => w.name), ...n.email.map((e) => e.name)].filter((t) => !n.escalateTo.includes(t));
  const names = [...new Set(asked)];
  const escalation = notice.escalate ? n.escalateTo.filter((t) => !names.includes(t)) : [];
  const plan = [...names.map((name) => ({ name, escalation: false })), ...[...new Set(escalation)].map((name) => ({ name, escalation: true }))];
  const known = [...n.webhooks.map((w) => w.name), ...n.email.map((e) => e.name)];
  const escalateNames = notice.escalate ? n.escalateTo : [];

  const sends: Array<Promise<NoticeResult>> = [];
  for (const { name, escalation: esc } of plan) {
    const hooks = n.webhooks.filter((w) => w.name === name);
    const mails = n.email.filter((e) => e.name === name);
    if (hooks.length === 0 && mails.length === 0) {
      sends.push(
        Promise.resolve({
          target: name,
          kind: 'unknown',
          ok: false,
          escalation: esc,
          error: `unknown notification target '${name}' (known: ${known.join(', ') || 'none'})`,
        }),
      );
    }
    for (const w of hooks) sends.push(postWebhook(w, opts.baseDir, notice, escalateNames).then((r) => ({ ...r, escalation: esc })));
    for (const m of mails) sends.push(sendEmail(m, opts.baseDir, notice, escalateNames).then((r) => ({ ...r, escalation: esc })));
  }
  const results = await Promise.all(sends);
  if (results.length > 0 && results.every((r) => !r.ok)) {
    throw new NoticeError(`notice '${notice.title}' reached no target: ${results.map((r) => r.error).join('; ')}`, results);
  }
  return results;
}

// --- Slack-compatible incoming webhook ---------------------------------------------------------------------

const EMOJI: Record<Severity, string> = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' };

/** Slack mrkdwn needs only &, < and > escaped. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function prefix(notice: Notice): string {
  return `[${notice.severity.toUpperCase()}] ${notice.escalate ? 'ESCALATION: ' : ''}`;
}

/** The incoming-webhook payload: `text` (the fallback shown in notifications) and Block Kit `blocks`. */
export function slackPayload(notice: Notice, escalateTo: string[] = []): { text: string; blocks: unknown[] } {
  const fields = Object.entries(notice.fields ?? {});
  const blocks: unknown[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${EMOJI[notice.severity]} ${notice.escalate ? 'ESCALATION: ' : ''}${notice.title}`, 150), emoji: true },
    },
  ];
  if (notice.text.trim()) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(esc(notice.text), 3000) } });
  for (let i = 0; i < fields.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + 10).map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${esc(k)}*\n${esc(v)}`, 2000) })),
    });
  }
  const context = [`severity: *${notice.severity}*`];
  if (notice.escalate) context.push(`escalation${escalateTo.length ? ` to ${escalateTo.map(esc).join(', ')}` : ''}`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  return { text: cut(esc(`${prefix(notice)}${notice.title}${notice.text.trim() ? `\n${notice.text}` : ''}`), 3000), blocks };
}

async function postWebhook(w: WebhookTarget, baseDir: string, notice: Notice, escalateTo: string[]): Promise<Omit<NoticeResult, 'escalation'>> {
  const base = { target: w.name, kind: 'webhook' as const };
  const secrets: string[] = [];
  let label = w.url;
  try {
    let url = w.url;
    if (SECRET_REF.test(w.url)) {
      url = resolveSecret(w.url, baseDir);
      secrets.push(url);
    } else {
      label = safeOrigin(w.url);
      secrets.push(url);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('the webhook URL is not a valid URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`the webhook URL must be http(s), not ${parsed.protocol}`);
    const res = await fetch(parsed, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackPayload(notice, escalateTo)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await res.text()).trim();
    if (!res.ok) throw new Error(`HTTP ${res.status}${body ? `: ${cut(body, 200)}` : ''}`);
    return { ...base, ok: true };
  } catch (err) {
    return { ...base, ok: false, error: scrub(`webhook ${w.name} (${label}): ${describe(err)}`, secrets) };
  }
}

// --- e-mail ----------------------------------------------------------------------------------------------

export function emailText(notice: Notice, escalateTo: string[] = []): { subject: string; text: string } {
  const lines: string[] = [];
  if (notice.escalate) lines.push(`ESCALATION: this notice was escalated${escalateTo.length ? ` to ${escalateTo.join(', ')}` : ''}.`, '');
  lines.push(notice.title, `Severity: ${notice.severity}`, '');
  if (notice.text.trim()) lines.push(notice.text, '');
  for (const [k, v] of Object.entries(notice.fields ?? {})) lines.push(`${k}: ${v}`);
  return { subject: `${prefix(notice)}${notice.title}`, text: `${lines.join('\n').trimEnd()}\n` };
}

async function sendEmail(m: EmailTarget, baseDir: string, notice: Notice, escalateTo: string[]): Promise<Omit<NoticeResult, 'escalation'>> {
  const base = { target: m.name, kind: 'email' as const };
  const secrets: string[] = [];
  const label = `smtp ${m.host}:${m.port}${m.secure ? ' (TLS)' : ''}`;
  let transport: nodemailer.Transporter | undefined;
  try {
    let auth: { user: string; pass: string } | undefined;
    if (m.user !== undefined || m.password !== undefined) {
      if (m.user === undefined || m.password === undefined) throw new Error('user and password must be set together');
      const pass = resolveSecret(m.password, baseDir);
      secrets.push(pass);
      auth = { user: m.user, pass };
    }
    transport = nodemailer.createTransport({
      host: m.host,
      port: m.port,
      secure: m.secure,
      auth,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: 3 * TIMEOUT_MS,
    });
    const { subject, text } = emailText(notice, escalateTo);
    const info = await transport.sendMail({ from: m.from, to: m.to, subject, text, priority: notice.severity === 'critical' ? 'high' : 'normal' });
    const rejected = ((info.rejected ?? []) as Array<string | { address: string }>).map((r) => (typeof r === 'string' ? r : r.address));
    return { ...base, ok: true, messageId: info.messageId, ...(rejected.length ? { rejected, error: `server refused ${rejected.join(', ')}` } : {}) };
  } catch (err) {
    return { ...base, ok: false, error: scrub(`email ${m.name} (${label}): ${describe(err)}`, secrets) };
  } finally {
    transport?.close();
  }
}

// --- helpers ---------------------------------------------------------------------------------------------

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describe).join('; ');
  const e = err as Error & { code?: string; cause?: unknown };
  let s = e?.message || String(err);
  if (e?.name === 'TimeoutError') s = `no answer within ${TIMEOUT_MS} ms`;
  if (e?.code && !s.includes(e.code)) s += ` (${e.code})`;
  if (e?.cause) s += `: ${describe(e.cause)}`;
  return s;
}

/** For a plain URL target, only scheme, host and port: paths of webhook URLs carry tokens. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}

function scrub(message: string, secrets: string[]): string {
  let out = message;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[secret]');
  return out;
}
