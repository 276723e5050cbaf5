// The runbook config: one YAML file describing N sites with roles, the services and DNS records that
// follow the primary, objectives, approval policy, notices and drills. Secrets are references only.
import { z } from 'zod';
import { DRILL_SCENARIOS, WEEKDAYS } from '../domain/drill';

export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** `env:NAME` or `file:path`; resolved only inside activities, so workflow histories never hold secrets. */
export const secretRef = z
  .string({ error: 'a secret reference is required (env:NAME or file:path)' })
  .regex(SECRET_REF, { error: 'must be a secret reference: env:NAME or file:path, never the secret itself' });

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : null;
}

export function durationMs(d: string): number {
  const ms = parseDuration(d);
  if (ms === null) throw new Error(`bad duration '${d}'`);
  return ms;
}

/** A limit on a duration, in milliseconds, and what to tell someone who crosses it. */
interface Bound {
  ms: number;
  error: string;
}

/** A duration from min to max. A malformed one is reported by the pattern alone, not by the bounds too. */
function durationWithin(min: Bound, max: Bound) {
  return z
    .string()
    .regex(DURATION, { error: "must be a duration such as '500ms', '5s', '2m' or '1h'" })
    .refine((text) => (parseDuration(text) ?? min.ms) >= min.ms, { error: min.error })
    .refine((text) => (parseDuration(text) ?? max.ms) <= max.ms, { error: max.error });
}

const aboveZero: Bound = { ms: 1, error: 'must be longer than 0' };
const atMost30Days: Bound = { ms: 30 * 24 * UNIT_MS.h, error: 'must be at most 720h (30 days)' };

/** Every duration of the config is more than 0 and at most 30 days, unless its field says otherwise. */
export const duration = durationWithin(aboveZero, atMost30Days);

/** Temporal reads a schedule-to-start of 0 as none: a dead site would never count as unreachable. */
const siteScheduleToStart = durationWithin(
  { ms: 1, error: 'must be longer than 0: Temporal reads 0 as no timeout, so a dead site would never count as unreachable' },
  { ms: 5 * UNIT_MS.m, error: 'must be at most 5m: a dead site counts as unreachable only after this long, and every runbook waits for it' },
);

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

/** HAProxy's names (a backend, a server): what its config parser accepts, and nothing its CLI would split on. */
const haproxyName = z.string().regex(/^[A-Za-z0-9_.:-]+$/, { error: "must be an HAProxy name: letters, digits, '_', '.', ':' and '-'" });

/**
 * HAProxy in the data path: clients connect to `listen` and reach the one server of `backend` that is ready;
 * the runbooks move the writer through HAProxy's runtime API (`admin`), one server per site database.
 */
const haproxy = z.strictObject({
  /** Where the site's clients connect for writes; what the DNS record names. */
  listen: z.strictObject({ host: z.string().min(1), port }),
  /** The runtime API: a `stats socket ... level admin`, on TCP or a Unix socket the site's worker can open. */
  admin: z.union([z.strictObject({ host: z.string().min(1), port }), z.strictObject({ socket: z.string().min(1) })], {
    error: 'must be { host, port } or { socket: path }, the stats socket at level admin',
  }),
  backend: haproxyName.default('writer'),
  /** Site id → its server's name in the backend; a site left out is named by its id. */
  servers: z.record(z.string(), haproxyName).default({}),
  /**
   * HAProxy's `server-state-file`, relative to this file: HAProxy only reads it at start-up, so the adapter
   * dumps `show servers state` there after each change, and a restart keeps the routing. Omit it only where
   * the worker cannot write HAProxy's disk: a restart then goes back to the states of haproxy.cfg.
   */
  stateFile: z.string().min(1).optional(),
});

/** Kubernetes names: a namespace is a DNS label, a Deployment or an HPA a DNS subdomain (RFC 1123). */
const KUBE_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const kubeNamespace = z.string().refine((name) => name.length <= 63 && KUBE_LABEL.test(name), {
  error: "must be a Kubernetes namespace name: lower-case letters, digits and '-', at most 63 characters",
});
const kubeObjectName = z.string().refine((name) => name.length <= 253 && name.split('.').every((part) => KUBE_LABEL.test(part)), {
  error: "must be a Kubernetes object name: lower-case letters, digits, '-' and '.', at most 253 characters",
});

const kubernetes = z.strictObject({
  kubeconfig: z.string().min(1),
  context: z.string().optional(),
  namespace: kubeNamespace,
  /** How many Deployments are scaled and watched at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
});

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const timeZone = z.string().refine(validTimeZone, { error: "must be an IANA time zone such as 'Asia/Taipei'" });

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: "must be a folder inside the share ('.' for all of it), without '..'",
  });

/** A local time of day, 00:00 to 23:59. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day HH:MM (00:00 to 23:59), e.g. '02:00'" });

const syncSchedule = z.strictObject({
  /** Incremental sync interval (overlap SKIP). Temporal rounds a schedule's interval to whole seconds. */
  every: durationWithin({ ms: 1000, error: 'must be at least 1s: a schedule counts in whole seconds' }, atMost30Days),
  /** Nightly full sync + check, in the site's time zone (overlap BUFFER_ONE). */
  nightlyAt: timeOfDay,
  /** How late a missed run may still start (after the scheduler or server was down). */
  catchupWindow: duration,
});

const rclone = z.strictObject({
  /** rclone remote spec, e.g. ':s3,provider=Other,endpoint=http://...:' or a named remote 'b2:'. */
  remote: z.string().refine((remote) => remote.endsWith(':'), {
    error: "must end with ':', as in 'b2:' or ':s3,provider=Other,endpoint=...:'; without it rclone writes to a local folder",
  }),
  bucket: z.string().min(1),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  /** The local share: CephFS mount on a primary, NFS export on a DR site. */
  sharePath: z.string().min(1),
  /** Prefix inside the bucket. */
  prefix: z.string().default(''),
  maxDeleteShare: z.number().min(0).max(1).default(0.1),
  /** Sub-folders of the share synced (and RPO-tracked) separately; '.' is the whole share. */
  paths: z.array(relPath).min(1).default(['.']),
  /** Tuning; the defaults are rclone's, which won bench:sync on loopback (docs/file-sync.md). */
  checkers: z.number().int().min(1).max(256).default(8),
  transfers: z.number().int().min(1).max(256).default(4),
  fastList: z.boolean().default(false),
  /** 'download' compares the bytes; 'hash' trusts the checksums the store reports (cheaper, weaker). */
  fullCheck: z.enum(['download', 'hash']).default('download'),
  schedule: syncSchedule.default({ every: '5m', nightlyAt: '02:00', catchupWindow: '1h' }),
});

export const site = z.strictObject({
  id,
  role: z.enum(['primary', 'standby', 'dr']),
  name: z.string().min(1),
  timezone: timeZone.default('UTC'),
  mysql,
  proxysql: proxysql.optional(),
  haproxy: haproxy.optional(),
  kubernetes: kubernetes.optional(),
  rclone: rclone.optional(),
  /** The site agent's HTTP listener (in the site's worker): the lease a primary renews, and /metrics. */
  agent: z.strictObject({ host: z.string().min(1), port }).optional(),
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
  deployment: kubeObjectName,
  hpa: kubeObjectName.optional(),
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

/** TSIG algorithms that BIND and nsupdate both know. */
export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'hmac-sha224', 'hmac-sha1', 'hmac-md5'] as const;

/** Where a DNS server answers; 53 unless it says otherwise. */
const dnsEndpoint = z.strictObject({ host: z.string().min(1), port: port.default(53) });

/**
 * A zone on authoritative servers that take RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS):
 * updates go to the primary, and a change counts as done when every server in `servers` answers it.
 */
const rfc2136 = z.strictObject({
  /** The server that takes updates. */
  primary: dnsEndpoint,
  /** Every authoritative server of the zone, the primary included: each must answer a change before it is in sync. */
  servers: z
    .array(
      z.strictObject({
        name: id,
        host: z.string().min(1),
        port: port.default(53),
        /** The site it stands in: a runbook that finds the site unreachable can leave it out of the wait. */
        site: z.string().min(1).optional(),
      }),
    )
    .min(1, { error: 'name every authoritative server of the zone, the primary included' }),
  tsig: z.strictObject({
    /** The key's name, as the servers' `key` clause spells it. */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'must be a key name: letters, digits, dots, dashes and underscores' }),
    algorithm: z.enum(TSIG_ALGORITHMS).default('hmac-sha256'),
    /** The key's base64 secret. */
    secret: secretRef,
  }),
  /** Site id → the resolver that site's clients ask: what they would get now, seen from inside the site. */
  resolvers: z.record(z.string(), dnsEndpoint).optional(),
});

const dns = z.strictObject({
  /** route53 (the default) or rfc2136 (dynamic updates to authoritative servers such as BIND). */
  provider: z.enum(['route53', 'rfc2136']).default('route53'),
  /** Omit to look the zone up by zoneName (an emulator such as moto makes up its own ids). */
  hostedZoneId: z.string().min(1).optional(),
  zoneName: z.string().min(1),
  /** For an emulator (moto) or a VPC endpoint; omit for AWS itself. */
  endpoint: z.url().optional(),
  region: z.string().default('us-east-1'),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  records: z.array(dnsRecord).default([]),
  /** Read only with provider: rfc2136. */
  rfc2136: rfc2136.optional(),
});

/**
 * Semi-synchronous replication: which replicas acknowledge commits for which primary (its same-city peer).
 * A primary named nowhere (the far DR site) runs asynchronously. The roles follow the primary at failover.
 */
const semiSync = z.strictObject({
  /** How long a commit waits for an acknowledgement before the primary falls back to asynchronous. */
  timeout: duration.default('1s'),
  /** Primary site id → the replicas that acknowledge its commits. */
  acknowledgers: z.record(z.string(), z.array(z.string()).min(1, { error: 'name at least one acknowledging replica, or leave the site out' })),
});

/** A group's own server at a site: where it listens; the rest (users, secrets, dialect) is the site's `mysql`. */
const groupDatabase = z.strictObject({ host: z.string().min(1), port });

const group = z.strictObject({
  id,
  /** Site ids taking part, in the order a failover without a named target prefers them (the same-city standby first). */
  sites: z.array(z.string()).min(2, { error: 'a group needs at least two sites' }),
  services: z.array(service).default([]),
  semiSync: semiSync.optional(),
  /**
   * The group's own servers, one per site of the group. Without it the group is the sites' own `mysql` servers
   * (one such group at most). A group with its own servers is routed by the site's ProxySQL in its own
   * hostgroups (`proxysql`), never by the site's HAProxy, which fronts the sites' own servers.
   */
  databases: z.record(z.string(), groupDatabase).optional(),
  /** Its hostgroups in each site's ProxySQL; `host`/`port` when the group has a ProxySQL of its own in each site. */
  proxysql: z
    .strictObject({
      writerHostgroup: z.number().int().min(0),
      readerHostgroup: z.number().int().min(0),
      host: z.string().min(1).optional(),
      port: port.optional(),
    })
    .optional(),
});

/** A failover of every group of a site (workflows/site-failover.ts). */
const siteFailover = z.strictObject({
  /** How many groups fail over at once. */
  concurrency: z.number().int().min(1).max(256).default(16),
});

/** An approver's Ed25519 public key: the `ssh-ed25519 AAAA…` line itself, or file:path to a .pub file. */
const approverKey = z.string().refine((k) => /^ssh-ed25519 [A-Za-z0-9+/]+={0,2}( .*)?$/.test(k) || k.startsWith('file:'), {
  error: "must be an OpenSSH Ed25519 public key ('ssh-ed25519 AAAA…') or file:path to one",
});

/** A name, or a name with the key their decisions are signed with. */
const approver = z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), key: approverKey })], {
  error: 'an approver is a name, or { name, key } with an ssh-ed25519 public key',
});

const count = z.number().int().min(1, { error: 'must be at least 1' });

/** How many distinct approvers must sign: one number, or a default with stricter counts for the riskier decisions. */
const quorum = z.union([
  count,
  z.strictObject({
    default: count.default(1),
    unplanned: count.optional(),
    lossOverBudget: count.optional(),
    discardErrant: count.optional(),
    drillOutsideWindow: count.optional(),
  }),
]);

export const approverName = (a: string | { name: string }): string => (typeof a === 'string' ? a : a.name);

const approval = z
  .strictObject({
    policy: z.enum(['auto', 'manual', 'auto-after']),
    after: duration.optional(),
    approvers: z.array(approver).default([]),
    /** Refuse any decision that is not a statement signed with the approver's key. */
    requireSignature: z.boolean().default(false),
    /** A signed statement older than this is refused. */
    maxAge: duration.default('10m'),
    quorum: quorum.default(1),
  })
  .refine((a) => !a.requireSignature || a.approvers.every((x) => typeof x !== 'string'), {
    error: 'requireSignature: every approver needs a key ({ name, key: ssh-ed25519 … })',
    path: ['approvers'],
  })
  .refine((a) => new Set(a.approvers.map(approverName)).size === a.approvers.length, {
    error: 'an approver is listed twice',
    path: ['approvers'],
  })
  .refine(
    (a) => Math.max(...Object.values(typeof a.quorum === 'number' ? { q: a.quorum } : a.quorum).map(Number)) <= Math.max(1, a.approvers.length),
    {
      error: 'asks for more distinct approvers than are listed',
      path: ['quorum'],
    },
  )
  .refine((a) => a.policy !== 'auto-after' || a.after !== undefined, {
    error: "policy 'auto-after' needs 'after', e.g. after: 2m",
    path: ['after'],
  })
  .refine((a) => a.policy === 'auto-after' || a.after === undefined, {
    error: "is used only by policy 'auto-after': remove it, or set policy: auto-after",
    path: ['after'],
  })
  .refine((a) => a.policy === 'auto' || a.approvers.length > 0, {
    error: 'a manual or auto-after policy needs at least one approver',
    path: ['approvers'],
  });

const webhookTarget = z.strictObject({
  name: z.string().min(1),
  /** Slack incoming-webhook URLs are secrets: a reference, or a plain URL for a local receiver. */
  url: z.union([secretRef, z.url({ protocol: /^https?$/ })], {
    error: 'must be a secret reference (env:NAME or file:path) or an http(s) URL for a local receiver',
  }),
});

/** An address with a local part and a domain, bare or as 'Name <address>'. */
const mailbox = z.string().regex(/[^\s@<>,]@[^\s@<>,]/, {
  error: "must be an e-mail address, e.g. 'sre@example.com' or 'DR bot <dr-bot@example.com>'",
});

const emailTarget = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: secretRef.optional(),
  from: mailbox,
  to: z.array(mailbox).min(1),
});

const notifications = z.strictObject({
  webhooks: z.array(webhookTarget).default([]),
  email: z.array(emailTarget).default([]),
  /** Where repeated failures escalate to (target names). */
  escalateTo: z.array(z.string()).default([]),
});

const timeouts = z.strictObject({
  /** How long a site's worker may take to pick up a task before the site counts as unreachable. */
  siteScheduleToStart: siteScheduleToStart.default('5s'),
  activity: duration.default('30s'),
  /** Start-to-close of a step that takes milliseconds (inspect, fence, promote, route, verify, DNS upsert): a lost attempt is retried within this. */
  shortStep: duration.default('5s'),
  /** Heartbeat timeout of a long step (catch up, scale and wait, re-seed, sync): a lost attempt is retried within this. */
  heartbeat: duration.default('10s'),
  catchUp: duration.default('60s'),
  dnsInsync: duration.default('120s'),
  scaleReady: duration.default('180s'),
});

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const hostPort = z.string().refine(
  (address) => {
    const port = Number(HOST_PORT.exec(address)?.[3] ?? 0);
    return port >= 1 && port <= 65535;
  },
  { error: "must be host:port with a port from 1 to 65535, e.g. 'temporal.example.internal:7233' or '[::1]:7233'" },
);

/** TLS to Temporal: every reference is resolved by the process that connects, never put in a history. */
const temporalTls = z
  .strictObject({
    /** The CA that signed the server's certificate; the system's roots when unset. */
    ca: secretRef.optional(),
    /** mTLS: this client's certificate and key (PEM), both or neither. */
    cert: secretRef.optional(),
    key: secretRef.optional(),
    /** The name in the server's certificate, when the address's host is not it. */
    serverName: z.string().min(1).optional(),
  })
  .refine((t) => !t.cert === !t.key, { error: 'cert and key go together: give both or neither', path: ['key'] });

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** AES-256-GCM on every payload. Old keys stay listed so that old histories still decode after a rotation. */
const encryption = z
  .strictObject({
    /** The key new payloads are encrypted with. */
    keyId: z.string().regex(KEY_ID, { error: 'must be 1 to 64 letters, digits, dots, dashes or underscores' }),
    /** Key id → reference to 32 random bytes, base64 (e.g. `openssl rand -base64 32`). */
    keys: z.record(z.string().regex(KEY_ID, { error: 'a key id is 1 to 64 letters, digits, dots, dashes or underscores' }), secretRef),
  })
  .refine((e) => e.keyId in e.keys, { error: 'names no key listed under keys', path: ['keyId'] });

/** The codec server the Temporal UI and the `temporal` CLI decode payloads through. */
const codecServer = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** Callers present it as `Authorization: Bearer …`. */
  token: secretRef,
  /** Origins allowed by CORS: the Temporal UI's. */
  uiOrigins: z.array(z.url()).default([]),
});

const temporal = z.strictObject({
  address: hostPort.default('127.0.0.1:7233'),
  namespace: z.string().min(1, { error: 'must not be empty' }).default('default'),
  /** The Temporal UI, for the links drctl prints; none when unset. */
  ui: z.url().optional(),
  tls: temporalTls.optional(),
  /** Temporal Cloud's API key, a reference. */
  apiKey: secretRef.optional(),
  encryption: encryption.optional(),
  codecServer: codecServer.optional(),
});

/**
 * A planned switchover fences only once the candidate is nearly caught up: its catch-up after the fence is
 * inside the write pause, so a replica that lags under load would turn its whole backlog into outage.
 */
const switchover = z.strictObject({
  /** Close enough: at most this many received transactions still to apply… */
  nearlyTransactions: z.number().int().min(0).default(50),
  /** …or a backlog this quick to apply at the rate just measured. */
  nearlyApplyTime: duration.default('200ms'),
  /** Not close enough within this: the run stops before the fence, naming the lag. */
  nearlyTimeout: duration.default('60s'),
});

/** Failback: how far behind the returning site may be before the switch back, and how long each phase may take. */
const failback = z.strictObject({
  /** Replication lag (Seconds_Behind_Master) under which the reprotected site counts as caught up. */
  maxLagSeconds: z.number().min(0).default(5),
  /** How long to wait for a returning site that does not answer yet before failing clearly. */
  returnWait: duration.default('5m'),
  /** A re-seed (a clone or a dump of the current primary, into the returning site). */
  reseed: duration.default('2h'),
  /** auto: MySQL's clone plugin where both servers have it active, else a dump (and always on MariaDB). */
  reseedMethod: z.enum(['auto', 'clone', 'dump']).default('auto'),
  /** Reprotect: from starting replication until the lag is under maxLagSeconds. */
  catchUp: duration.default('30m'),
});

/** A weekday range of local time, [start, end): end may be '24:00', the end of the day. */
const drillWindow = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS, { error: `must be a day of the week: ${WEEKDAYS.join(', ')}` }))
      .min(1, { error: `name at least one day (${WEEKDAYS.join(', ')})` }),
    start: timeOfDay,
    end: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, { error: "must be a time of day HH:MM (00:00 to 24:00), e.g. '05:00'" }),
  })
  .refine((window) => window.start < window.end, { error: 'must be later than start: a window ends on the day it starts', path: ['end'] });

/** A real calendar date, YYYY-MM-DD. */
const localDate = z.string().refine(
  (text) => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return false;
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    return date.toISOString().slice(0, 10) === text;
  },
  { error: "must be a calendar date YYYY-MM-DD, e.g. '2026-02-16'" },
);

/** What a fault command may name; each is filled in by the worker that runs it. */
export const COMMAND_PLACEHOLDERS = ['site', 'config'] as const;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

/** A shell command with {site} (the site of the fault) and {config} (this file's absolute path). */
const command = z
  .string()
  .min(1, { error: 'must not be empty' })
  .superRefine((text, context) => {
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = match[1]!;
      if ((COMMAND_PLACEHOLDERS as readonly string[]).includes(name)) continue;
      context.addIssue({ code: 'custom', message: unknownPlaceholder(name, text[match.index - 1] === '$') });
    }
  });

function unknownPlaceholder(name: string, shellVariable: boolean): string {
  const known = COMMAND_PLACEHOLDERS.map((placeholder) => `{${placeholder}}`).join(' and ');
  return `unknown placeholder {${name}}: a command may use ${known}${shellVariable ? `; write a shell variable as $${name}, without braces` : ''}`;
}

/** How to cause a fault on a site, and how to take it back. */
const faultCommands = z.strictObject({ inject: command, heal: command });

/** Who causes a drill's faults: these commands on the control worker, or a person told what to do. */
const injector = z
  .strictObject({
    kind: z.enum(['command', 'manual']).default('manual'),
    /** The folder the commands run in, relative to this file. */
    cwd: z.string().min(1).default('.'),
    /** Each command's limit. */
    timeout: duration.default('60s'),
    powerOff: faultCommands.optional(),
    isolate: faultCommands.optional(),
  })
  .refine((i) => i.kind !== 'command' || i.powerOff !== undefined, {
    error: "kind 'command' needs powerOff: { inject, heal }, the commands that cut a site's power and restore it",
    path: ['powerOff'],
  })
  .refine((i) => i.kind !== 'command' || i.isolate !== undefined, {
    error: "kind 'command' needs isolate: { inject, heal }, the commands that cut a site's links and restore them",
    path: ['isolate'],
  });

/** A drill the control plane starts by itself: a weekday and time of day in drills.timezone. */
const drillSchedule = z.strictObject({
  id,
  group: z.string().min(1),
  scenario: z.enum(DRILL_SCENARIOS),
  /** The site the fault hits; default the group's primary. */
  site: z.string().min(1).optional(),
  /** monthly: the first such weekday of each month; quarterly: of January, April, July and October. */
  every: z.enum(['weekly', 'monthly', 'quarterly']),
  day: z.enum(WEEKDAYS, { error: `must be a day of the week: ${WEEKDAYS.join(', ')}` }),
  at: timeOfDay,
  requestedBy: z.string().min(1).default('drill-schedule'),
});

/**
 * Detection: site agents that probe their own database every `probeEvery`, Alertmanager's webhook, a quorum of
 * vantage points, and a lease that an isolated primary loses (and fences itself) before anyone promotes.
 */
const detection = z
  .strictObject({
    /** Off: no agent, no alert intake, no lease; the config stays as documentation. */
    enabled: z.boolean().default(true),
    /** The control plane's HTTP listener: Alertmanager's webhook (/alerts), the ops vantage point (/lease), /metrics. */
    control: z.strictObject({ host: z.string().min(1), port, name: id.default('ops') }),
    /** The bearer token Alertmanager sends (its http_config.authorization.credentials_file). */
    token: secretRef,
    probeEvery: duration.default('250ms'),
    /** A failure shorter than this starts nothing. */
    confirmWindow: duration.default('1s'),
    /** After an automatic failover, no second one for the group until a person acknowledges it, or this passes. */
    block: duration.default('1h'),
    /** 'auto': a confirmed incident's failover needs no person (within the RPO budget); 'approval': the approval policy. */
    policy: z.enum(['auto', 'approval']).default('approval'),
    lease: z
      .strictObject({
        renewEvery: duration.default('1s'),
        /** A primary that cannot renew for this long fences itself. */
        fenceAfter: duration.default('2s'),
        /** No promotion before this has passed since the old primary's last renewal (default fenceAfter + 1s). */
        promoteAfter: duration.optional(),
      })
      .prefault({}),
    /** How often the primary's agent writes its heartbeat row (dr_meta.heartbeat). */
    heartbeatEvery: duration.default('250ms'),
  })
  .optional();

/** Drills: when they may run, how faults are caused, how the stream is measured, and which run by themselves. */
const drills = z.strictObject({
  /** Windows and holidays are read in it; default the primary site's time zone. */
  timezone: timeZone.optional(),
  /** When a drill may run. None: any time. */
  windows: z.array(drillWindow).default([]),
  /** Local dates on which no drill runs: market holidays. */
  holidays: z.array(localDate).default([]),
  /** The drill's write stream: writes per second per writer, and the application user it writes as (default the runbook's). */
  stream: z
    .strictObject({ ratePerSecond: z.number().min(1).max(500).default(20), user: z.string().min(1).optional(), password: secretRef.optional() })
    .prefault({}),
  /** How long the stream runs on after the failover. */
  settle: duration.default('2s'),
  /** A drill slower than the median RTO of the earlier ones by more than this share is a regression. */
  regressionShare: z.number().min(0).max(10).default(0.2),
  /** City → its sites, for city-loss; a site in no city is a city of its own. */
  cities: z.record(z.string().min(1), z.array(z.string()).min(1, { error: 'name at least one site, or leave the city out' })).default({}),
  injector: injector.prefault({}),
  schedules: z.array(drillSchedule).default([]),
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
    siteFailover: siteFailover.prefault({}),
    dns: dns.optional(),
    approval,
    notifications: notifications.default({ webhooks: [], email: [], escalateTo: [] }),
    timeouts: timeouts.default({
      siteScheduleToStart: '5s',
      activity: '30s',
      shortStep: '5s',
      heartbeat: '10s',
      catchUp: '60s',
      dnsInsync: '120s',
      scaleReady: '180s',
    }),
    failback: failback.default({ maxLagSeconds: 5, returnWait: '5m', reseed: '2h', reseedMethod: 'auto', catchUp: '30m' }),
    switchover: switchover.prefault({}),
    /** Reports, errant exports and the file-sync state; relative to the config file. */
    stateDir: z.string().min(1).default('state'),
    /**
     * Folders of each dialect's client tools (mysqldump, mysqlbinlog, mysql / mariadb-dump, mariadb-binlog,
     * mariadb), relative to this file; default PATH. Debian's MariaDB also installs `mysql*` names for its own
     * tools, so a MySQL estate should name the folder of MySQL's, of the servers' version.
     */
    clientTools: z.strictObject({ mysql: z.string().min(1).optional(), mariadb: z.string().min(1).optional() }).default({}),
    drills: drills.prefault({}),
    detection,
  })
  .transform(({ drills, ...rest }) => ({ ...rest, drills: { ...drills, timezone: drills.timezone ?? primaryTimeZone(rest.sites) } }));

/** Drills read their windows in the primary site's time zone unless they name one. */
function primaryTimeZone(sites: Array<{ role: string; timezone: string }>): string {
  return sites.find((s) => s.role === 'primary')?.timezone ?? 'UTC';
}

export type Config = z.infer<typeof config>;
export type Site = z.infer<typeof site>;
export type HaproxyConfig = NonNullable<Site['haproxy']>;
export type ClientTools = Config['clientTools'];
export type Service = z.infer<typeof service>;
export type Group = z.infer<typeof group>;
export type SemiSync = z.infer<typeof semiSync>;
/** The drills section as loaded: defaults filled in, the time zone resolved. */
export type DrillsConfig = Config['drills'];
export type DrillSchedule = DrillsConfig['schedules'][number];
export type DetectionConfig = NonNullable<Config['detection']>;
export type DnsSection = NonNullable<Config['dns']>;
export type Rfc2136Config = NonNullable<DnsSection['rfc2136']>;
