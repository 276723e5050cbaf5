// Configs that parse but cannot work: each case is config/example.yaml with one thing wrong, changed through
// its YAML document, and each must be refused naming the exact field. A case lists every path its change is
// reported at, so a rule that also fires somewhere it should not fails the case too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../../config/load';

const configDir = join(__dirname, '..', '..', 'config');
const exampleText = readFileSync(join(configDir, 'example.yaml'), 'utf8');

type Path = Array<string | number>;
type Change = (document: Document) => void;

interface BadConfig {
  name: string;
  change: Change;
  /** The field the problem names, as the loader writes it. */
  path: string;
  message: RegExp;
  /** Where else the same change is reported, when it breaks more than one thing. */
  also?: string[];
}

const set =
  (path: Path, value: unknown): Change =>
  (document) =>
    document.setIn(path, value);
const remove =
  (path: Path): Change =>
  (document) =>
    document.deleteIn(path);
const add =
  (path: Path, value: unknown): Change =>
  (document) =>
    document.addIn(path, value);
const all =
  (...changes: Change[]): Change =>
  (document) => {
    for (const change of changes) change(document);
  };

const ownServers = { tw: { host: 'pos.tw', port: 3306 }, sg: { host: 'pos.sg', port: 3306 } };
const ownHostgroups = { writerHostgroup: 11, readerHostgroup: 21 };

/** A third site: a same-city standby with a database and a cluster, in no group until a case adds it. */
const hongKong = {
  id: 'hk',
  role: 'standby',
  name: 'Hong Kong standby',
  mysql: { host: 'mysql-standby.hk.example.internal', port: 3306, user: 'dr_runbook', password: 'env:DR_HK_MYSQL_PASSWORD' },
  kubernetes: { kubeconfig: '/etc/dr/kubeconfig-hk.yaml', namespace: 'trading' },
  agent: { host: 'dr-worker.hk.example.internal', port: 9470 },
};

const timeout = (field: string, value: string): Change => set(['timeouts', field], value);
const trading = (...rest: Path): Path => ['groups', 0, ...rest];
const service = (index: number, ...rest: Path): Path => trading('services', index, ...rest);
const record = (index: number, ...rest: Path): Path => ['dns', 'records', index, ...rest];
const mail = (...rest: Path): Path => ['notifications', 'email', 0, ...rest];
const schedule = (every: string, catchupWindow: string) => ({ every, nightlyAt: '02:00', catchupWindow });
const drills = (...rest: Path): Path => ['drills', ...rest];
const drillSchedule = (index: number, ...rest: Path): Path => drills('schedules', index, ...rest);

/** The example's zone on authoritative servers that take RFC 2136 updates, in place of Route 53. */
const rfc2136Zone = {
  primary: { host: 'ns-primary.example.internal', port: 53 },
  servers: [
    { name: 'primary', host: 'ns-primary.example.internal' },
    { name: 'tw', host: 'ns.tw.example.internal' },
    { name: 'sg', host: 'ns.sg.example.internal', port: 5353, site: 'sg' },
  ],
  tsig: { name: 'dr-update', secret: 'env:DR_TSIG_SECRET' },
  resolvers: { tw: { host: 'resolver.tw.example.internal' }, sg: { host: 'resolver.sg.example.internal' } },
};
const rfc2136 = (...rest: Path): Path => ['dns', 'rfc2136', ...rest];
const useRfc2136: Change = all(
  remove(['dns', 'hostedZoneId']),
  remove(['dns', 'region']),
  set(['dns', 'provider'], 'rfc2136'),
  // As YAML nodes, so that a case can change a field inside the section.
  (document) => document.setIn(rfc2136(), document.createNode(rfc2136Zone)),
);

const corpus: BadConfig[] = [
  // ── durations: more than 0, at most 30 days; a site's schedule-to-start at most 5 minutes ──
  {
    name: 'a schedule-to-start of 0, which Temporal reads as none',
    change: timeout('siteScheduleToStart', '0s'),
    path: 'timeouts.siteScheduleToStart',
    message: /Temporal reads 0 as no timeout/,
  },
  {
    name: 'a schedule-to-start of 10 minutes',
    change: timeout('siteScheduleToStart', '10m'),
    path: 'timeouts.siteScheduleToStart',
    message: /at most 5m/,
  },
  { name: 'a short step of 0', change: timeout('shortStep', '0s'), path: 'timeouts.shortStep', message: /longer than 0/ },
  { name: 'a heartbeat timeout of 0', change: timeout('heartbeat', '0ms'), path: 'timeouts.heartbeat', message: /longer than 0/ },
  { name: 'a catch-up timeout of 0', change: timeout('catchUp', '0m'), path: 'timeouts.catchUp', message: /longer than 0/ },
  { name: 'a DNS wait over 30 days', change: timeout('dnsInsync', '721h'), path: 'timeouts.dnsInsync', message: /at most 720h \(30 days\)/ },
  { name: 'a scale timeout of 0', change: timeout('scaleReady', '0s'), path: 'timeouts.scaleReady', message: /longer than 0/ },
  { name: 'an activity timeout over 30 days', change: timeout('activity', '50000m'), path: 'timeouts.activity', message: /at most 720h/ },
  {
    name: 'a duration in digits too many to count',
    change: timeout('catchUp', '99999999999999999999999h'),
    path: 'timeouts.catchUp',
    message: /at most 720h/,
  },
  { name: 'a return wait of 0', change: set(['failback', 'returnWait'], '0s'), path: 'failback.returnWait', message: /longer than 0/ },
  { name: 'a re-seed limit over 30 days', change: set(['failback', 'reseed'], '1000h'), path: 'failback.reseed', message: /at most 720h/ },
  { name: 'a reprotect catch-up of 0', change: set(['failback', 'catchUp'], '0ms'), path: 'failback.catchUp', message: /longer than 0/ },
  { name: 'an auto-approval after 0', change: set(['approval', 'after'], '0s'), path: 'approval.after', message: /longer than 0/ },
  {
    name: 'a file-sync interval under a second',
    change: set(['sites', 0, 'rclone', 'schedule'], schedule('500ms', '1h')),
    path: 'sites[0].rclone.schedule.every',
    message: /at least 1s/,
  },
  {
    name: 'a file-sync catch-up window of 0',
    change: set(['sites', 0, 'rclone', 'schedule'], schedule('5m', '0s')),
    path: 'sites[0].rclone.schedule.catchupWindow',
    message: /longer than 0/,
  },
  { name: 'a malformed duration', change: timeout('catchUp', 'ten seconds'), path: 'timeouts.catchUp', message: /must be a duration/ },
  {
    name: 'a nightly sync at 24:00',
    change: set(['sites', 1, 'rclone', 'schedule'], { every: '5m', nightlyAt: '24:00', catchupWindow: '1h' }),
    path: 'sites[1].rclone.schedule.nightlyAt',
    message: /time of day/,
  },

  // ── Temporal ──
  { name: 'an empty Temporal address', change: set(['temporal', 'address'], ''), path: 'temporal.address', message: /host:port/ },
  {
    name: 'a Temporal address without a port',
    change: set(['temporal', 'address'], 'temporal.dr.example.internal'),
    path: 'temporal.address',
    message: /host:port/,
  },
  {
    name: 'a Temporal address with port 0',
    change: set(['temporal', 'address'], 'temporal.dr.example.internal:0'),
    path: 'temporal.address',
    message: /port from 1 to 65535/,
  },
  {
    name: 'a Temporal address with a port over 65535',
    change: set(['temporal', 'address'], 'temporal.dr.example.internal:72330'),
    path: 'temporal.address',
    message: /port from 1 to 65535/,
  },
  {
    name: 'a Temporal address written as a URL',
    change: set(['temporal', 'address'], 'http://temporal.dr.example.internal:7233'),
    path: 'temporal.address',
    message: /host:port/,
  },
  { name: 'an empty Temporal namespace', change: set(['temporal', 'namespace'], ''), path: 'temporal.namespace', message: /must not be empty/ },
  { name: 'a Temporal UI that is no URL', change: set(['temporal', 'ui'], 'temporal ui'), path: 'temporal.ui', message: /URL/i },

  // ── sites ──
  {
    name: 'two primaries',
    change: set(['sites', 1, 'role'], 'primary'),
    path: 'sites[1].role',
    message: /a second primary: exactly one site has role 'primary', and sites\[0\] has it/,
  },
  { name: 'no primary', change: set(['sites', 0, 'role'], 'standby'), path: 'sites', message: /no site has role 'primary'/ },
  {
    name: 'a duplicate site id',
    change: set(['sites', 1, 'id'], 'tw'),
    path: 'sites[1].id',
    message: /duplicate site id 'tw'/,
    also: ['groups[0].sites[1]', 'dns.records[0].values.sg', 'dns.records[1].values.sg'],
  },
  {
    name: 'ProxySQL reading and writing through one hostgroup',
    change: set(['sites', 0, 'proxysql', 'readerHostgroup'], 10),
    path: 'sites[0].proxysql.readerHostgroup',
    message: /is also the writer hostgroup \(10\)/,
  },
  {
    name: 'two databases at one address',
    change: set(['sites', 1, 'mysql', 'host'], 'mysql-primary.tw.example.internal'),
    path: 'sites[1].mysql.port',
    message: /mysql-primary\.tw\.example\.internal:3306 is also used by sites\[0\]\.mysql/,
  },
  { name: 'a database port of 0', change: set(['sites', 0, 'mysql', 'port'], 0), path: 'sites[0].mysql.port', message: /expected number to be >=1/ },
  {
    name: 'a store key without its secret',
    change: remove(['sites', 0, 'rclone', 'secretAccessKey']),
    path: 'sites[0].rclone.secretAccessKey',
    message: /accessKeyId and secretAccessKey go together/,
  },
  {
    name: 'a store secret without its key',
    change: remove(['sites', 1, 'rclone', 'accessKeyId']),
    path: 'sites[1].rclone.accessKeyId',
    message: /go together/,
  },
  {
    name: 'an rclone remote without its colon',
    change: set(['sites', 0, 'rclone', 'remote'], 'b2'),
    path: 'sites[0].rclone.remote',
    message: /must end with ':'.*local folder/,
  },
  {
    name: 'one folder synced by two paths',
    change: set(['sites', 0, 'rclone', 'paths'], ['media', './media/']),
    path: 'sites[0].rclone.paths[1]',
    message: /is the same folder as paths\[0\] 'media'/,
  },
  {
    name: 'a folder inside the whole share',
    change: set(['sites', 0, 'rclone', 'paths'], ['.', 'media']),
    path: 'sites[0].rclone.paths[1]',
    message: /is inside paths\[0\] '\.'/,
  },
  {
    name: 'a folder that holds an earlier one',
    change: set(['sites', 1, 'rclone', 'paths'], ['media/2024', 'media']),
    path: 'sites[1].rclone.paths[1]',
    message: /holds paths\[0\] 'media\/2024'/,
  },
  {
    name: 'a path out of the share',
    change: set(['sites', 0, 'rclone', 'paths'], ['../etc']),
    path: 'sites[0].rclone.paths[0]',
    message: /inside the share/,
  },
  {
    name: 'a namespace in capitals',
    change: set(['sites', 0, 'kubernetes', 'namespace'], 'Trading'),
    path: 'sites[0].kubernetes.namespace',
    message: /Kubernetes namespace name/,
  },
  {
    name: 'a namespace with a dot',
    change: set(['sites', 1, 'kubernetes', 'namespace'], 'trading.prod'),
    path: 'sites[1].kubernetes.namespace',
    message: /Kubernetes namespace name/,
  },
  { name: 'an unknown time zone', change: set(['sites', 1, 'timezone'], 'Asia/Singapor'), path: 'sites[1].timezone', message: /IANA time zone/ },

  // ── groups ──
  {
    name: 'a group listing a site twice',
    change: set(trading('sites'), ['tw', 'sg', 'tw']),
    path: 'groups[0].sites[2]',
    message: /site 'tw' is listed twice \(first as groups\[0\]\.sites\[0\]\)/,
  },
  {
    name: 'a group of one site written twice',
    change: set(trading('sites'), ['sg', 'sg']),
    path: 'groups[0].sites[1]',
    message: /listed twice/,
    also: ['groups[0].sites'],
  },
  { name: 'a group of one site', change: set(trading('sites'), ['tw']), path: 'groups[0].sites', message: /at least two sites/ },
  {
    name: 'a group without the primary',
    change: all(
      add(['sites'], hongKong),
      set(trading('sites'), ['sg', 'hk']),
      set(record(0, 'values', 'hk'), '192.0.2.30'),
      set(record(1, 'values', 'hk'), 'proxysql.hk.example.internal.'),
    ),
    path: 'groups[0].sites',
    message: /does not include the primary site 'tw'/,
  },
  { name: 'a group naming an unknown site', change: set(trading('sites', 1), 'hk'), path: 'groups[0].sites[1]', message: /unknown site 'hk'/ },
  {
    name: 'a duplicate group id',
    change: add(['groups'], { id: 'trading', sites: ['tw', 'sg'] }),
    path: 'groups[1].id',
    message: /duplicate group id 'trading'/,
  },
  {
    name: 'services to scale in a site without Kubernetes',
    change: remove(['sites', 1, 'kubernetes']),
    path: 'groups[0].sites[1]',
    message: /no kubernetes section/,
  },

  // ── services ──
  {
    name: 'two services of one name',
    change: set(service(1, 'name'), 'matching-engine'),
    path: 'groups[0].services[1].name',
    message: /duplicate service name 'matching-engine' \(first as groups\[0\]\.services\[0\]\)/,
  },
  {
    name: 'two services scaling one Deployment',
    change: set(service(2, 'deployment'), 'matching-engine'),
    path: 'groups[0].services[2].deployment',
    message: /also scaled by groups\[0\]\.services\[0\]: the two would fight/,
  },
  {
    name: 'a production size of 0',
    change: set(service(2, 'production', 'replicas'), 0),
    path: 'groups[0].services[2].production.replicas',
    message: /without pods after a failover/,
  },
  {
    name: 'HPA bounds on a service without an HPA',
    change: set(service(2, 'production', 'minReplicas'), 2),
    path: 'groups[0].services[2].production.minReplicas',
    message: /no hpa/,
  },
  {
    name: 'an HPA maximum on a standby without an HPA',
    change: set(service(2, 'standby', 'maxReplicas'), 3),
    path: 'groups[0].services[2].standby.maxReplicas',
    message: /no hpa/,
  },
  {
    name: 'replicas below the HPA minimum',
    change: set(service(0, 'production', 'replicas'), 2),
    path: 'groups[0].services[0].production.replicas',
    message: /2 is below minReplicas 6/,
  },
  {
    name: 'replicas above the HPA maximum',
    change: set(service(1, 'standby', 'replicas'), 20),
    path: 'groups[0].services[1].standby.replicas',
    message: /20 is above maxReplicas 12/,
  },
  {
    name: 'an HPA minimum above its maximum',
    change: set(service(0, 'production', 'minReplicas'), 50),
    path: 'groups[0].services[0].production.minReplicas',
    message: /must not exceed maxReplicas/,
  },
  {
    name: 'a Deployment name Kubernetes refuses',
    change: set(service(0, 'deployment'), 'Matching_Engine'),
    path: 'groups[0].services[0].deployment',
    message: /Kubernetes object name/,
  },
  {
    name: 'an HPA name with a space',
    change: set(service(1, 'hpa'), 'order gateway'),
    path: 'groups[0].services[1].hpa',
    message: /Kubernetes object name/,
  },

  // ── DNS ──
  {
    name: 'a third site in the group with no value in the records',
    change: all(add(['sites'], hongKong), add(trading('sites'), 'hk')),
    path: 'dns.records[0].values',
    message: /no value for site 'hk' of group 'trading' \(it has tw, sg\): a failover to hk would leave it at the old site/,
    also: ['dns.records[1].values'],
  },
  {
    name: 'a record with no value for the DR site',
    change: remove(record(0, 'values', 'sg')),
    path: 'dns.records[0].values',
    message: /no value for site 'sg' of group 'trading' \(it has tw\): a failover to sg would leave it at the old site/,
  },
  {
    name: 'an A record holding a host name',
    change: set(record(0, 'values', 'sg'), 'api.sg.example.com'),
    path: 'dns.records[0].values.sg',
    message: /IPv4 address/,
  },
  {
    name: 'an A record holding an IPv6 address',
    change: set(record(0, 'values', 'tw'), '2001:db8::10'),
    path: 'dns.records[0].values.tw',
    message: /IPv4/,
  },
  {
    name: 'an AAAA record holding IPv4 addresses',
    change: set(record(0, 'type'), 'AAAA'),
    path: 'dns.records[0].values.tw',
    message: /IPv6 address/,
    also: ['dns.records[0].values.sg'],
  },
  {
    name: 'a CNAME holding an address',
    change: set(record(1, 'values', 'tw'), '203.0.113.10'),
    path: 'dns.records[1].values.tw',
    message: /host name.*use type A/,
  },
  {
    name: 'a CNAME holding words',
    change: set(record(1, 'values', 'sg'), 'the sg proxy'),
    path: 'dns.records[1].values.sg',
    message: /host name/,
  },
  {
    name: 'a record outside the zone',
    change: set(record(0, 'name'), 'api.trading.example.org.'),
    path: 'dns.records[0].name',
    message: /not inside the zone trading\.example\.com\./,
  },
  {
    name: 'a record in a zone that merely ends alike',
    change: set(record(0, 'name'), 'api.othertrading.example.com.'),
    path: 'dns.records[0].name',
    message: /not inside the zone/,
  },
  {
    name: 'a CNAME at the zone apex',
    change: set(record(1, 'name'), 'trading.example.com'),
    path: 'dns.records[1].type',
    message: /CNAME cannot be at the zone apex/,
  },
  {
    name: 'one record configured twice',
    change: all(
      set(record(1, 'name'), 'API.trading.example.com'),
      set(record(1, 'type'), 'A'),
      set(record(1, 'values'), { tw: '192.0.2.1', sg: '192.0.2.2' }),
    ),
    path: 'dns.records[1].name',
    message: /is also records\[0\]: one change cannot set it twice/,
  },
  {
    name: 'a CNAME sharing its name with an A record',
    change: set(record(1, 'name'), 'api.trading.example.com.'),
    path: 'dns.records[1].type',
    message: /CNAME cannot share its name.*records\[0\]/,
  },
  {
    name: 'a record pointing at an unknown site',
    change: set(record(0, 'values', 'hk'), '192.0.2.1'),
    path: 'dns.records[0].values.hk',
    message: /record points at unknown site 'hk'/,
  },
  { name: 'a TTL of 0', change: set(record(0, 'ttl'), 0), path: 'dns.records[0].ttl', message: /at least 1 second/ },
  { name: 'an MX record', change: set(record(0, 'type'), 'MX'), path: 'dns.records[0].type', message: /expected one of "A"\|"AAAA"\|"CNAME"/ },

  // ── approval ──
  {
    name: "a manual policy with 'after'",
    change: set(['approval', 'policy'], 'manual'),
    path: 'approval.after',
    message: /used only by policy 'auto-after'/,
  },
  {
    name: "an automatic policy with 'after'",
    change: set(['approval', 'policy'], 'auto'),
    path: 'approval.after',
    message: /used only by policy 'auto-after'/,
  },
  { name: "auto-after without 'after'", change: remove(['approval', 'after']), path: 'approval.after', message: /needs 'after'/ },
  {
    name: 'a manual policy without approvers',
    change: set(['approval'], { policy: 'manual', approvers: [] }),
    path: 'approval.approvers',
    message: /at least one approver/,
  },

  // ── notifications ──
  {
    name: 'two targets of one name',
    change: add(['notifications', 'webhooks'], { name: 'oncall-mail', url: 'env:DR_OTHER_WEBHOOK' }),
    path: 'notifications.email[0].name',
    message: /duplicate target name 'oncall-mail' \(also notifications\.webhooks\[1\]\)/,
  },
  {
    name: 'an SMTP user without a password',
    change: remove(mail('password')),
    path: 'notifications.email[0].password',
    message: /user and password go together/,
  },
  { name: 'an SMTP password without a user', change: remove(mail('user')), path: 'notifications.email[0].user', message: /go together/ },
  {
    name: 'implicit TLS on the STARTTLS port',
    change: set(mail('secure'), true),
    path: 'notifications.email[0].secure',
    message: /port 587 upgrades to TLS with STARTTLS/,
  },
  {
    name: 'plain text on the TLS port',
    change: set(mail('port'), 465),
    path: 'notifications.email[0].secure',
    message: /port 465 speaks TLS from the first byte/,
  },
  {
    name: 'a recipient without a domain',
    change: set(mail('to'), ['sre-oncall@example.com', 'dba-oncall']),
    path: 'notifications.email[0].to[1]',
    message: /e-mail address/,
  },
  { name: 'a sender that is no address', change: set(mail('from'), 'DR bot'), path: 'notifications.email[0].from', message: /e-mail address/ },
  {
    name: 'an escalation to an unknown target',
    change: set(['notifications', 'escalateTo'], ['pager']),
    path: 'notifications.escalateTo[0]',
    message: /unknown notification target 'pager'/,
  },
  {
    name: 'a webhook URL in plain text',
    change: set(['notifications', 'webhooks', 0, 'url'], 'hooks.slack.com/services/T000/B000/XXXX'),
    path: 'notifications.webhooks[0].url',
    message: /secret reference \(env:NAME or file:path\) or an http\(s\) URL/,
  },
  {
    name: 'a webhook that is no HTTP URL',
    change: set(['notifications', 'webhooks', 0, 'url'], 'ftp://hooks.example.internal/dr'),
    path: 'notifications.webhooks[0].url',
    message: /http\(s\) URL/,
  },

  // ── drills ──
  {
    name: 'a drill window on a day spelt out',
    change: set(drills('windows', 0, 'days'), ['saturday']),
    path: 'drills.windows[0].days[0]',
    message: /must be a day of the week: sun, mon, tue, wed, thu, fri, sat/,
  },
  { name: 'a drill window of no days', change: set(drills('windows', 0, 'days'), []), path: 'drills.windows[0].days', message: /at least one day/ },
  {
    name: 'a drill window that ends before it starts',
    change: set(drills('windows', 0), { days: ['sat'], start: '05:00', end: '01:00' }),
    path: 'drills.windows[0].end',
    message: /must be later than start/,
  },
  {
    name: 'a drill window that ends as it starts',
    change: set(drills('windows', 0), { days: ['sat'], start: '01:00', end: '01:00' }),
    path: 'drills.windows[0].end',
    message: /must be later than start/,
  },
  {
    name: 'a drill window that ends past midnight',
    change: set(drills('windows', 0, 'end'), '24:30'),
    path: 'drills.windows[0].end',
    message: /time of day HH:MM \(00:00 to 24:00\)/,
  },
  {
    name: 'a holiday that is no calendar date',
    change: set(drills('holidays', 1), '2026-02-30'),
    path: 'drills.holidays[1]',
    message: /calendar date YYYY-MM-DD/,
  },
  { name: 'an unknown drill time zone', change: set(drills('timezone'), 'Asia/Taipeh'), path: 'drills.timezone', message: /IANA time zone/ },
  {
    name: 'a drill stream of 1000 writes a second',
    change: set(drills('stream', 'ratePerSecond'), 1000),
    path: 'drills.stream.ratePerSecond',
    message: /<=500/,
  },
  {
    name: 'a drill stream user without a password',
    change: set(drills('stream', 'user'), 'trading_app'),
    path: 'drills.stream.password',
    message: /user and password go together/,
  },
  {
    name: 'a city with an unknown site',
    change: set(drills('cities', 'taipei'), ['tw', 'hk']),
    path: 'drills.cities.taipei[1]',
    message: /unknown site 'hk' \(known sites: tw, sg\)/,
  },
  {
    name: 'a site in two cities',
    change: set(drills('cities', 'singapore'), ['sg', 'tw']),
    path: 'drills.cities.singapore[1]',
    message: /site 'tw' is also in city 'taipei': a site is in one city only/,
  },
  {
    name: 'a drill schedule of an unknown group',
    change: set(drillSchedule(0, 'group'), 'reporting'),
    path: 'drills.schedules[0].group',
    message: /unknown group 'reporting' \(known groups: trading\)/,
  },
  {
    name: 'a drill schedule on a site outside its group',
    change: all(add(['sites'], hongKong), set(drillSchedule(0, 'site'), 'hk')),
    path: 'drills.schedules[0].site',
    message: /'hk' is not a site of group 'trading' \(its sites: tw, sg\)/,
  },
  {
    name: 'two drill schedules of one id',
    change: set(drillSchedule(1, 'id'), 'monthly-power-loss'),
    path: 'drills.schedules[1].id',
    message: /duplicate drill schedule id 'monthly-power-loss' \(first as drills\.schedules\[0\]\)/,
  },
  {
    name: 'a drill schedule outside every window',
    change: set(drillSchedule(0, 'day'), 'sun'),
    path: 'drills.schedules[0].at',
    message: /sun 02:00 is outside every drill window \(sat 01:00-05:00\): each run of this schedule would be refused/,
  },
  {
    name: 'a drill schedule of an unknown scenario',
    change: set(drillSchedule(0, 'scenario'), 'meteor'),
    path: 'drills.schedules[0].scenario',
    message: /expected one of "power-loss"\|"isolation"\|"city-loss"\|"switchover-round-trip"/,
  },
  {
    name: 'a drill schedule every fortnight',
    change: set(drillSchedule(1, 'every'), 'fortnightly'),
    path: 'drills.schedules[1].every',
    message: /expected one of "weekly"\|"monthly"\|"quarterly"/,
  },
  {
    name: 'a fault command with an unknown placeholder',
    change: set(drills('injector', 'powerOff', 'inject'), 'ipmitool -H bmc-{host} chassis power off'),
    path: 'drills.injector.powerOff.inject',
    message: /unknown placeholder \{host\}: a command may use \{site\} and \{config\}$/,
  },
  {
    name: 'a fault command with a shell variable in braces',
    change: set(drills('injector', 'isolate', 'heal'), 'ssh fw-{site} ${NFT} flush chain inet dr forward'),
    path: 'drills.injector.isolate.heal',
    message: /unknown placeholder \{NFT\}: .*write a shell variable as \$NFT, without braces/,
  },
  {
    name: 'an injector of kind command without powerOff',
    change: remove(drills('injector', 'powerOff')),
    path: 'drills.injector.powerOff',
    message: /kind 'command' needs powerOff: \{ inject, heal \}/,
  },
  {
    name: 'an injector of kind command without isolate',
    change: remove(drills('injector', 'isolate')),
    path: 'drills.injector.isolate',
    message: /kind 'command' needs isolate/,
  },
  {
    name: 'an unknown injector kind',
    change: set(drills('injector', 'kind'), 'ipmi'),
    path: 'drills.injector.kind',
    message: /expected one of "command"\|"manual"/,
  },

  // ── the DNS provider: Route 53 by default, or RFC 2136 updates to authoritative servers ──
  {
    name: 'an unknown DNS provider',
    change: set(['dns', 'provider'], 'powerdns'),
    path: 'dns.provider',
    message: /expected one of "route53"\|"rfc2136"/,
  },
  {
    name: 'provider rfc2136 without its section',
    change: all(remove(['dns', 'hostedZoneId']), remove(['dns', 'region']), set(['dns', 'provider'], 'rfc2136')),
    path: 'dns.rfc2136',
    message: /required with provider: rfc2136/,
  },
  {
    name: 'an rfc2136 section under Route 53',
    change: set(rfc2136(), rfc2136Zone),
    path: 'dns.rfc2136',
    message: /is read only with provider: rfc2136/,
  },
  {
    name: 'a Route 53 hosted zone id with provider rfc2136',
    change: all(useRfc2136, set(['dns', 'hostedZoneId'], 'Z0EXAMPLE12345')),
    path: 'dns.hostedZoneId',
    message: /is a Route 53 setting; provider rfc2136 does not use it/,
  },
  {
    name: 'a TSIG secret written into the config',
    change: all(useRfc2136, set(rfc2136('tsig', 'secret'), 'c2VjcmV0c2VjcmV0c2VjcmV0')),
    path: 'dns.rfc2136.tsig.secret',
    message: /must be a secret reference/,
  },
  {
    name: 'a TSIG algorithm BIND does not know',
    change: all(useRfc2136, set(rfc2136('tsig', 'algorithm'), 'hmac-sha3')),
    path: 'dns.rfc2136.tsig.algorithm',
    message: /expected one of "hmac-sha256"/,
  },
  {
    name: 'no authoritative servers',
    change: all(useRfc2136, set(rfc2136('servers'), [])),
    path: 'dns.rfc2136.servers',
    message: /name every authoritative server of the zone, the primary included/,
  },
  {
    name: 'servers without the primary',
    change: all(useRfc2136, remove(rfc2136('servers', 0))),
    path: 'dns.rfc2136.servers',
    message: /does not include the primary ns-primary\.example\.internal:53/,
  },
  {
    name: 'two servers of one name',
    change: all(useRfc2136, set(rfc2136('servers', 2, 'name'), 'tw')),
    path: 'dns.rfc2136.servers[2].name',
    message: /duplicate server name 'tw'/,
  },
  {
    name: 'one server listed twice under two names',
    change: all(useRfc2136, set(rfc2136('servers', 2), { name: 'sg', host: 'ns.tw.example.internal' })),
    path: 'dns.rfc2136.servers[2].port',
    message: /ns\.tw\.example\.internal:53 is also servers\[1\]/,
  },
  {
    name: 'a primary on no port',
    change: all(useRfc2136, set(rfc2136('primary', 'port'), 70000)),
    path: 'dns.rfc2136.primary.port',
    message: /expected number to be <=65535/,
    also: ['dns.rfc2136.servers'],
  },
  {
    name: 'a resolver of an unknown site',
    change: all(useRfc2136, set(rfc2136('resolvers', 'hk'), { host: 'resolver.hk.example.internal' })),
    path: 'dns.rfc2136.resolvers.hk',
    message: /unknown site 'hk' \(known sites: tw, sg\)/,
  },
  {
    name: 'a server in an unknown site',
    change: all(useRfc2136, set(rfc2136('servers', 1, 'site'), 'hk')),
    path: 'dns.rfc2136.servers[1].site',
    message: /unknown site 'hk' \(known sites: tw, sg\)/,
  },
  {
    name: 'an unknown key in the rfc2136 section',
    change: all(useRfc2136, set(rfc2136('zone'), 'trading.example.com.')),
    path: 'dns.rfc2136.zone',
    message: /unknown key/,
  },

  // ── groups with servers of their own (many groups per site) ──
  {
    name: 'a group of its own servers that leaves one of its sites out',
    change: add(['groups'], { id: 'positions', sites: ['tw', 'sg'], databases: { tw: { host: 'pos.tw', port: 3306 } }, proxysql: ownHostgroups }),
    path: 'groups[1].databases',
    message: /missing site 'sg': every site of the group needs its server/,
  },
  {
    name: "a group's server that is another's address",
    change: add(['groups'], {
      id: 'positions',
      sites: ['tw', 'sg'],
      databases: { tw: { host: 'mysql-primary.tw.example.internal', port: 3306 }, sg: { host: 'pos.sg', port: 3306 } },
      proxysql: ownHostgroups,
    }),
    path: 'groups[1].databases.tw.port',
    message: /mysql-primary\.tw\.example\.internal:3306 is also used by sites\[0\]\.mysql/,
  },
  {
    name: 'a group of its own servers with no hostgroups of its own',
    change: add(['groups'], { id: 'positions', sites: ['tw', 'sg'], databases: ownServers }),
    path: 'groups[1].proxysql',
    message: /required: the group's own writer and reader hostgroups/,
  },
  {
    name: "a group's writer hostgroup that the sites' own servers use",
    change: add(['groups'], { id: 'positions', sites: ['tw', 'sg'], databases: ownServers, proxysql: { writerHostgroup: 10, readerHostgroup: 21 } }),
    path: 'groups[1].proxysql.writerHostgroup',
    message: /hostgroup 10 is also the sites' proxysql\.writerHostgroup/,
  },
  {
    name: 'a site failover with no group at a time',
    change: set(['siteFailover'], { concurrency: 0 }),
    path: 'siteFailover.concurrency',
    message: />=1/,
  },

  // ── the rest ──
  { name: 'an RPO of 0', change: set(['objectives', 'rpoSeconds'], 0), path: 'objectives.rpoSeconds', message: /expected number to be >0/ },
  { name: 'an empty state folder', change: set(['stateDir'], ''), path: 'stateDir', message: /expected string to have >=1 characters/ },
];

/** The problems a refused config is reported with; fails when it is accepted or refused otherwise. */
function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    return error.problems;
  }
  assert.fail('the config was accepted');
}

/** `bad.yaml: PATH: MESSAGE (line N)`, split up; a problem in another form fails. */
function partsOf(problem: string): { path: string; message: string; line: string | undefined } {
  const parts = /^bad\.yaml: (\S+): (.*?)(?: \(line (\d+)\))?$/.exec(problem);
  assert.ok(parts, `not in the form file: path: message: ${problem}`);
  return { path: parts[1]!, message: parts[2]!, line: parts[3] };
}

const changed = (change: Change): string => {
  const document = parseDocument(exampleText);
  change(document);
  return document.toString();
};

test('the corpus is large and each case has a name of its own', () => {
  assert.ok(corpus.length >= 60, `${corpus.length} cases`);
  assert.equal(new Set(corpus.map((bad) => bad.name)).size, corpus.length);
});

for (const bad of corpus) {
  test(`refused at ${bad.path}: ${bad.name}`, () => {
    const problems = problemsOf(changed(bad.change)).map(partsOf);
    const report = problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n  ');
    assert.deepEqual(problems.map((problem) => problem.path).sort(), [bad.path, ...(bad.also ?? [])].sort(), `reported:\n  ${report}`);
    const problem = problems.find((candidate) => candidate.path === bad.path)!;
    assert.match(problem.message, bad.message, `reported:\n  ${report}`);
    assert.ok(problem.line !== undefined, `no line number: ${problem.path}: ${problem.message}`);
  });
}

test('the shipped configs all load', () => {
  for (const file of ['example.yaml', 'lab.yaml', 'lab-test.yaml']) loadConfig(join(configDir, file));
});

test("the lab configs' commented rfc2136 dns section loads in place of their Route 53 one", () => {
  for (const file of ['lab.yaml', 'lab-test.yaml']) {
    const text = readFileSync(join(configDir, file), 'utf8');
    const block = /^# dns:\n(?:# {2}.*\n)+/m.exec(text)?.[0];
    assert.ok(block, `${file} has no commented dns section`);
    const section = parseDocument(block.replace(/^# ?/gm, '')).toJS() as { dns: Record<string, unknown> };
    const document = parseDocument(text);
    document.setIn(['dns'], { ...section.dns, records: (document.toJS() as { dns: { records: unknown } }).dns.records });
    const loaded = parseConfig(document.toString(), join(configDir, file));
    assert.equal(loaded.config.dns?.provider, 'rfc2136', file);
    assert.equal(loaded.config.dns?.rfc2136?.tsig.algorithm, 'hmac-sha256', file);
  }
});

test('configs at the edge of each rule load', () => {
  const edges: Array<[string, Change]> = [
    [
      'a third site with a value in every record',
      all(
        add(['sites'], hongKong),
        add(trading('sites'), 'hk'),
        set(record(0, 'values', 'hk'), '192.0.2.30'),
        set(record(1, 'values', 'hk'), 'proxysql.hk.example.internal.'),
      ),
    ],
    [
      'a second group of other sites beside the primary, its new site in every record',
      all(
        add(['sites'], hongKong),
        add(['groups'], { id: 'reporting', sites: ['tw', 'hk'] }),
        set(record(0, 'values', 'hk'), '192.0.2.30'),
        set(record(1, 'values', 'hk'), 'proxysql.hk.example.internal.'),
      ),
    ],
    ['record names in any case, without the final dot', set(record(0, 'name'), 'API.Trading.Example.COM')],
    ['an AAAA record', all(set(record(0, 'type'), 'AAAA'), set(record(0, 'values'), { tw: '2001:db8::10', sg: '2001:db8:1::10' }))],
    ['an IPv6 Temporal address', set(['temporal', 'address'], '[::1]:7233')],
    ['a schedule-to-start of 5 minutes', timeout('siteScheduleToStart', '5m')],
    ['a heartbeat of 1 ms and a re-seed of 30 days', all(timeout('heartbeat', '1ms'), set(['failback', 'reseed'], '720h'))],
    ['a file-sync interval of 1 s', set(['sites', 0, 'rclone', 'schedule'], schedule('1s', '1m'))],
    ['folders side by side', set(['sites', 0, 'rclone', 'paths'], ['media', 'media-archive', 'docs/2024'])],
    ['TLS from the first byte on port 465', all(set(mail('port'), 465), set(mail('secure'), true))],
    ['a mail server without login', all(remove(mail('user')), remove(mail('password')))],
    ['addresses with names', all(set(mail('from'), 'DR bot <dr-bot@example.com>'), set(mail('to'), ['SRE <sre@example.com>']))],
    ['a standby scaled to zero under its HPA', set(service(0, 'standby', 'replicas'), 0)],
    ['a manual policy with approvers', set(['approval'], { policy: 'manual', approvers: ['ops-lead'] })],
    ['no drills section', (document) => document.delete('drills')],
    ['drills with no windows and a manual injector', all(set(drills('windows'), []), set(drills('injector'), { kind: 'manual' }))],
    [
      'a drill window to the end of the day, and a weekly drill on a named site in it',
      all(
        set(drills('windows', 0), { days: ['fri', 'sat'], start: '20:00', end: '24:00' }),
        set(drillSchedule(0), { id: 'weekly', group: 'trading', scenario: 'isolation', site: 'sg', every: 'weekly', day: 'fri', at: '23:59' }),
        remove(drillSchedule(1)),
      ),
    ],
    ['every site in a city', set(drills('cities'), { taipei: ['tw'], singapore: ['sg'] })],
    ['a drill stream as the application user', all(set(drills('stream', 'user'), 'trading_app'), set(drills('stream', 'password'), 'env:DR_APP_PW'))],
    [
      'shell syntax in braces beside the placeholders',
      set(drills('injector', 'isolate', 'heal'), 'ssh fw-{site} "awk \'{ print $1 }\' /x" # {config}'),
    ],
    ['the zone on RFC 2136 servers, with the defaults (port 53, hmac-sha256)', useRfc2136],
    ['RFC 2136 servers without resolvers', all(useRfc2136, remove(rfc2136('resolvers')))],
    ['Route 53 named as the provider', set(['dns', 'provider'], 'route53')],
    [
      'a store reached with the credentials rclone finds itself',
      all(remove(['sites', 0, 'rclone', 'accessKeyId']), remove(['sites', 0, 'rclone', 'secretAccessKey'])),
    ],
  ];
  for (const [name, change] of edges) {
    assert.doesNotThrow(() => parseConfig(changed(change), 'edge.yaml'), name);
  }
});

test('an alias bomb is refused as a ConfigError naming the file, not expanded', () => {
  let bomb = 'x-bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (const [name, previous] of [...'bcdefghi'].map((letter, index) => [letter, 'abcdefgh'[index]])) {
    bomb += `  ${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
  }
  assert.throws(
    () => parseConfig(`${exampleText.trimEnd()}\n${bomb}`, 'bomb.yaml'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
      assert.deepEqual(error.problems, ['bomb.yaml: YAML: too many aliases (an alias bomb?)']);
      return true;
    },
  );
});

test('a few aliases, as a config may use them, still load', () => {
  const text = exampleText
    .replace('      bucket: trading-files\n', '      bucket: &bucket trading-files\n')
    .replace(/( {6}bucket: )trading-files$/m, '$1*bucket');
  assert.ok(text.includes('*bucket'));
  assert.equal(parseConfig(text, 'aliases.yaml').config.sites[1]!.rclone!.bucket, 'trading-files');
});

/** Every path to a value in a parsed document. */
function pathsIn(value: unknown, path: Path = []): Path[] {
  const here = path.length > 0 ? [path] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, index) => pathsIn(item, [...path, index]))];
  if (value !== null && typeof value === 'object')
    return [...here, ...Object.entries(value).flatMap(([key, inner]) => pathsIn(inner, [...path, key]))];
  return here;
}

/** A copy of a parsed document with the value at `path` replaced. */
function replaced(document: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(document);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path.at(-1)!] = value;
  return copy;
}

test('any value of any shape anywhere is a ConfigError or a config, never a crash', () => {
  // JSON is YAML, and writes faster than a YAML document: a thousand configs in a few seconds.
  const example = parseDocument(exampleText).toJS() as unknown;
  const paths = pathsIn(example);
  assert.ok(paths.length > 150, `${paths.length} paths`);
  for (const path of paths) {
    for (const value of [null, -1, 'x', [{ id: 'x' }], { id: 'x' }]) {
      try {
        parseConfig(JSON.stringify(replaced(example, path, value)), 'bad.yaml');
      } catch (error) {
        assert.ok(error instanceof ConfigError, `${path.join('.')} = ${JSON.stringify(value)}: ${String(error)}`);
        for (const problem of error.problems) assert.ok(problem.startsWith('bad.yaml: '), problem);
      }
    }
  }
});
