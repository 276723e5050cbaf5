// POST /alerts: Alertmanager's webhook, into the incident of each alert's group. Only alerts labelled
// dr_action="failover" are incidents; the others are acknowledged and left to the team's own routes.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoadedConfig } from '../../config/load';
import { resolveSecret } from '../../activities/secrets';
import type { AlertSignal } from '../../domain/detection';
import { HttpError, readJsonBody, sendJson, type Handler } from '../metrics/http';
import type { IncidentReporter } from '../agent/reporter';
import { alertmanagerPayload, payloadProblems, type Alert } from './alertmanager-payload';

export function alertIntake(loaded: LoadedConfig, reporter: IncidentReporter, log: (line: string) => void): Handler {
  const groups = loaded.config.groups.map((g) => g.id);
  return async (req, res) => {
    authenticate(req, loaded);
    const parsed = alertmanagerPayload.safeParse(await readJsonBody(req));
    if (!parsed.success) throw new HttpError(400, `not an Alertmanager webhook (version 4): ${payloadProblems(parsed.error).join('; ')}`);
    const acting = parsed.data.alerts.map((a, i) => ({ a, i })).filter(({ a }) => a.labels.dr_action === 'failover');
    const unknown = acting.filter(({ a }) => !groups.includes(a.labels.group ?? ''));
    if (unknown.length) {
      const what = unknown.map(({ a, i }) => `alerts[${i}].labels.group: ${a.labels.group ? `unknown group '${a.labels.group}'` : 'missing'}`);
      throw new HttpError(400, `${what.join('; ')} (known groups: ${groups.join(', ')})`);
    }
    const incidents = await Promise.all(acting.map(({ a }) => reporter.report(a.labels.group!, signalOf(a))));
    for (const { a } of acting) log(`intake: ${a.labels.alertname ?? 'alert'} ${a.status} for ${a.labels.group}/${a.labels.site ?? '?'}`);
    sendJson(res, 200, { accepted: acting.length, ignored: parsed.data.alerts.length - acting.length, incidents });
  };
}

/** A bearer token, compared in constant time; read at each request so that a rotated token takes effect at once. */
function authenticate(req: IncomingMessage, loaded: LoadedConfig): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  if (!match) throw new HttpError(401, 'a bearer token is required (Authorization: Bearer …)');
  const expected = Buffer.from(resolveSecret(loaded.config.detection!.token, loaded.baseDir).trim());
  const given = Buffer.from(match[1]!.trim());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, 'the bearer token is wrong');
}

function signalOf(a: Alert): AlertSignal {
  return {
    kind: 'alert',
    status: a.status,
    alertname: a.labels.alertname ?? 'unnamed',
    fingerprint: a.fingerprint,
    suspect: a.labels.site ?? null,
    startsAt: a.startsAt,
    receivedAt: new Date().toISOString(),
  };
}
