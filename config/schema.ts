// The runbook config: one YAML file describing N sites with roles, the services and DNS records that
// follow the primary, objectives, approval policy and notices. Secrets are references only.
import { z } from 'zod';

export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** `env:NAME` or `file:path`; resolved only inside activities, so workflow histories never hold secrets. */
export const secretRef = z
  .string({ error: 'a secret reference is required (env:NAME or file:path)' })
  .regex(SECRET_REF, { error: 'must be a secret reference: env:NAME or file:path, never the secret itself' });

const DURATION = /^(\d+)(ms|s|m|h)$/;
export const duration = z.string().regex(DURATION, { error: "must be a duration such as '500ms', '5s', '2m' or '1h'" });

export function durationMs(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`bad duration '${d}'`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

const port = z.number().int().min(1).max(65535);
const id = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, { error: 'must be lower-case letters, digits and dashes, starting with a letter' });

const mysql = z.strictObject({
  host: z.string().min(1),
  port,
  user: z.string().min(1),
  password: secretRef,
  /** 'auto' asks the server; set it to skip detection. */
  dialect: z.enum(['auto', 'mysql', 'mariadb']).default('auto'),
  replicationUser: z.string().min(1).optional(),
  replicationPassword: secretRef.optional(),
  /** Client users whose connections survive a fence (replication, monitoring). */
  systemUsers: z.array(z.string()).default([]),
});

const proxysql = z.strictObject({
  host: z.string().min(1),
  port,
  user: z.string().min(1),
  password: secretRef,
  writerHostgroup: z.number().int().min(0),
  readerHostgroup: z.number().int().min(0),
});

const kubernetes = z.strictObject({
  kubeconfig: z.string().min(1),
  context: z.string().optional(),
  namespace: z.string().min(1),
});

const rclone = z.strictObject({
  /** rclone remote spec, e.g. ':s3,provider=Other,endpoint=http://...:' or a named remote 'b2:'. */
  remote: z.string().min(1),
  bucket: z.string().min(1),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  /** The local share: CephFS mount on a primary, NFS export on a DR site. */
  sharePath: z.string().min(1),
  /** Prefix inside the bucket. */
  prefix: z.string().default(''),
  maxDeleteShare: z.number().min(0).max(1).default(0.1),
});

export const site = z.strictObject({
  id,
  role: z.enum(['primary', 'standby', 'dr']),
  name: z.string().min(1),
  timezone: z.string().default('UTC'),
  mysql,
  proxysql: proxysql.optional(),
  kubernetes: kubernetes.optional(),
  rclone: rclone.optional(),
});

const scaleProfile = z
  .strictObject({
    replicas: z.number().int().min(0),
    minReplicas: z.number().int().min(1).optional(),
    maxReplicas: z.number().int().min(1).optional(),
  })
  .refine((p) => p.minReplicas === undefined || p.maxReplicas === undefined || p.minReplicas <= p.maxReplicas, {
    error: 'minReplicas must not exceed maxReplicas',
    path: ['minReplicas'],
  });

const service = z.strictObject({
  name: z.string().min(1),
  deployment: z.string().min(1),
  hpa: z.string().optional(),
  production: scaleProfile,
  standby: scaleProfile,
});

const dnsRecord = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+\.?$/, { error: 'must be a DNS name' }),
  type: z.enum(['A', 'AAAA', 'CNAME']),
  ttl: z.number().int().min(1, { error: 'TTL must be at least 1 second' }).max(172800, { error: 'TTL must be at most 172800 seconds (2 days)' }),
  /** What the record holds while each site is primary: site id → value. */
  values: z.record(z.string(), z.string().min(1)),
});

const dns = z.strictObject({
  hostedZoneId: z.string().min(1),
  zoneName: z.string().min(1),
  /** For an emulator (moto) or a VPC endpoint; omit for AWS itself. */
  endpoint: z.url().optional(),
  region: z.string().default('us-east-1'),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  records: z.array(dnsRecord).default([]),
});

const group = z.strictObject({
  id,
  /** Site ids taking part; the first primary-role site is the usual primary. */
  sites: z.array(z.string()).min(2, { error: 'a group needs at least two sites' }),
  services: z.array(service).default([]),
});

const approval = z
  .strictObject({
    policy: z.enum(['auto', 'manual', 'auto-after']),
    after: duration.optional(),
    approvers: z.array(z.string().min(1)).default([]),
  })
  .refine((a) => a.policy !== 'auto-after' || a.after !== undefined, {
    error: "policy 'auto-after' needs 'after', e.g. after: 2m",
    path: ['after'],
  })
  .refine((a) => a.policy === 'auto' || a.approvers.length > 0, {
    error: 'a manual or auto-after policy needs at least one approver',
    path: ['approvers'],
  });

const webhookTarget = z.strictObject({
  name: z.string().min(1),
  /** Slack incoming-webhook URLs are secrets: a reference, or a plain URL for a local receiver. */
  url: z.union([secretRef, z.url()]),
});

const emailTarget = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: secretRef.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
});

const notifications = z.strictObject({
  webhooks: z.array(webhookTarget).default([]),
  email: z.array(emailTarget).default([]),
  /** Where repeated failures escalate to (target names). */
  escalateTo: z.array(z.string()).default([]),
});

const timeouts = z.strictObject({
  /** How long a site's worker may take to pick up a task before the site counts as unreachable. */
  siteScheduleToStart: duration.default('5s'),
  activity: duration.default('30s'),
  catchUp: duration.default('60s'),
  dnsInsync: duration.default('120s'),
  scaleReady: duration.default('180s'),
});

const temporal = z.strictObject({
  address: z.string().default('127.0.0.1:7233'),
  namespace: z.string().default('default'),
});

/** Only the lab scripts read this: where the lab keeps state and its extra ports. */
const lab = z.strictObject({
  stateDir: z.string().min(1),
  temporalUiPort: port.default(8233),
  motoPort: port.optional(),
});

export const config = z
  .strictObject({
    name: z.string().min(1),
    temporal: temporal.default({ address: '127.0.0.1:7233', namespace: 'default' }),
    objectives: z.strictObject({
      rtoSeconds: z.number().positive(),
      rpoSeconds: z.number().positive(),
    }),
    sites: z.array(site).min(2, { error: 'at least two sites are needed for disaster recovery' }),
    groups: z.array(group).min(1),
    dns: dns.optional(),
    approval,
    notifications: notifications.default({ webhooks: [], email: [], escalateTo: [] }),
    timeouts: timeouts.default({
      siteScheduleToStart: '5s',
      activity: '30s',
      catchUp: '60s',
      dnsInsync: '120s',
      scaleReady: '180s',
    }),
    lab: lab.optional(),
  })
  .superRefine((c, ctx) => {
    const ids = c.sites.map((s) => s.id);
    const known = () => `known sites: ${[...new Set(ids)].join(', ')}`;
    ids.forEach((sid, i) => {
      if (ids.indexOf(sid) !== i) ctx.addIssue({ code: 'custom', path: ['sites', i, 'id'], message: `duplicate site id '${sid}'` });
    });
    if (!c.sites.some((s) => s.role === 'primary')) {
      ctx.addIssue({ code: 'custom', path: ['sites'], message: "no site has role 'primary'" });
    }
    c.groups.forEach((g, gi) => {
      g.sites.forEach((sid, si) => {
        if (!ids.includes(sid)) ctx.addIssue({ code: 'custom', path: ['groups', gi, 'sites', si], message: `unknown site '${sid}' (${known()})` });
      });
      if (c.groups.findIndex((o) => o.id === g.id) !== gi) {
        ctx.addIssue({ code: 'custom', path: ['groups', gi, 'id'], message: `duplicate group id '${g.id}'` });
      }
      if (g.services.length > 0) {
        g.sites.forEach((sid, si) => {
          const s = c.sites.find((x) => x.id === sid);
          if (s && !s.kubernetes) {
            ctx.addIssue({ code: 'custom', path: ['groups', gi, 'sites', si], message: `site '${sid}' has services to scale but no kubernetes section` });
          }
        });
      }
    });
    c.dns?.records.forEach((r, ri) => {
      for (const sid of Object.keys(r.values)) {
        if (!ids.includes(sid)) ctx.addIssue({ code: 'custom', path: ['dns', 'records', ri, 'values', sid], message: `record points at unknown site '${sid}' (${known()})` });
      }
    });
    const targets = [...c.notifications.webhooks.map((w) => w.name), ...c.notifications.email.map((e) => e.name)];
    c.notifications.escalateTo.forEach((t, i) => {
      if (!targets.includes(t)) ctx.addIssue({ code: 'custom', path: ['notifications', 'escalateTo', i], message: `unknown notification target '${t}' (known: ${targets.join(', ') || 'none'})` });
    });
    const ports = new Map<string, string>();
    c.sites.forEach((s, si) => {
      for (const [what, ep] of [['mysql', s.mysql], ['proxysql', s.proxysql]] as const) {
        if (!ep) continue;
        const key = `${ep.host}:${ep.port}`;
        const where = `sites[${si}].${what}`;
        if (ports.has(key)) ctx.addIssue({ code: 'custom', path: ['sites', si, what, 'port'], message: `${key} is also used by ${ports.get(key)}` });
        else ports.set(key, where);
      }
    });
  });

export type Config = z.infer<typeof config>;
export type Site = z.infer<typeof site>;
export type Service = z.infer<typeof service>;
export type Group = z.infer<typeof group>;
