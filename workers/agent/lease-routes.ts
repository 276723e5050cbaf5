// A vantage point's lease, over HTTP: the primary's agent renews and releases it; anyone may read it.
import type { IncomingMessage } from 'node:http';
import type { LeaseTable } from '../../domain/lease';
import { HttpError, readJsonBody, sendJson, type Handler } from '../metrics/http';

async function leaseRequest(req: IncomingMessage): Promise<{ group: string; holder: string }> {
  const body = (await readJsonBody(req, 4096)) as { group?: unknown; holder?: unknown } | null;
  if (typeof body?.group !== 'string' || typeof body.holder !== 'string')
    throw new HttpError(400, 'the body must be { "group": string, "holder": string }');
  return { group: body.group, holder: body.holder };
}

export function leaseRoutes(leases: LeaseTable): Record<string, Handler> {
  return {
    'POST /lease/renew': async (req, res) => {
      const { group, holder } = await leaseRequest(req);
      const answer = leases.renew(group, holder);
      sendJson(res, answer.granted ? 200 : 409, answer);
    },
    'POST /lease/release': async (req, res) => {
      const { group, holder } = await leaseRequest(req);
      sendJson(res, 200, { released: leases.release(group, holder) });
    },
    'GET /lease': (_req, res) => sendJson(res, 200, Object.fromEntries(leases.groups().map((g) => [g, leases.view(g)]))),
  };
}
