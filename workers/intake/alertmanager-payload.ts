// Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
// checked field by field, so that a bad one is answered with what is wrong and where.
import { z } from 'zod';

const labels = z.record(z.string(), z.string());

const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1),
});

export const alertmanagerPayload = z.object({
  version: z.literal('4', { error: "must be '4' (Alertmanager's webhook payload version)" }),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupKey: z.string(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  alerts: z.array(alert).min(1, { error: 'must hold at least one alert' }),
});

export type AlertmanagerPayload = z.infer<typeof alertmanagerPayload>;
export type Alert = AlertmanagerPayload['alerts'][number];

/** Every problem, each as `path: message` (alerts[0].startsAt: must be an RFC 3339 time). */
export function payloadProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    return `${path || 'body'}: ${i.message}`;
  });
}
