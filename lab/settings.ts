// The lab's own section of a config file, `x-lab`: its extra ports. The product ignores `x-` keys;
// the lab checks this one with the same `file: field: message` errors as the product's loader.
import { z } from 'zod';
import { ConfigError, formatPath, type LoadedConfig } from '../config/load';

const port = z.number().int().min(1).max(65535);
const ipv4 = z.string().regex(/^\d+\.\d+\.\d+\.\d+$/, 'an IPv4 address');

const settings = z.strictObject({
  /** The database servers the lab runs: MySQL (the project's own 9.7 tree) or MariaDB (Debian's). */
  engine: z.enum(['mysql', 'mariadb']).default('mysql'),
  /** Extra database groups, each a MariaDB per site (lab/groups.ts writes a config that lists them). */
  groups: z.number().int().min(0).max(64).optional(),
  temporalUiPort: port.default(8233),
  motoPort: port.optional(),
  /** Seconds the lab's Route 53 answers PENDING after a change, before INSYNC (real Route 53: up to 60 s). */
  route53InsyncDelay: z.number().min(0).max(120).default(0),
  /** One Kubernetes control plane per site (lab/k8s-lab.sh): site id → kube-apiserver port. */
  kubeApiPorts: z.record(z.string(), port).optional(),
  /** The lab's S3-compatible store (rclone serve s3). */
  s3Port: port.optional(),
  /** The lab's notice sink: a Slack-style webhook receiver and an SMTP server, both writing to notices.jsonl. */
  notices: z.strictObject({ webhookPort: port, smtpPort: port }).optional(),
  /**
   * Prometheus and Alertmanager in the control site, and a mysqld_exporter beside each site's database on
   * exporterPort of the site's address (on loopback, where the sites share one address: exporterPort + the
   * site's index).
   */
  observability: z.strictObject({ prometheusPort: port, alertmanagerPort: port, exporterPort: port }).optional(),
  /**
   * One network namespace per site, joined by a WAN of point-to-point links that the lab can cut. Without it
   * the lab runs every site on loopback (and cannot isolate one).
   */
  network: z
    .strictObject({
      /** The lab's own addresses; `lab up` checks that the host uses none of them. */
      subnet: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, 'an IPv4 prefix such as 198.18.1.0/24'),
      /** The host's own address on every site's management link: the operator's seat (drctl, tests, the UI). */
      observer: ipv4,
      /** Each site's address, the product's sites and the control site. */
      sites: z.record(z.string(), ipv4),
      /** The site that holds Temporal, the control worker, moto, the object store and the notice sink. */
      control: z.string(),
    })
    .optional(),
});

export type LabSettings = z.infer<typeof settings>;

export function labOf(loaded: LoadedConfig): LabSettings {
  const raw = loaded.extensions['x-lab'];
  const where = (path: readonly PropertyKey[]) => `${loaded.file}: ${formatPath(['x-lab', ...path])}`;
  if (raw === undefined) throw new ConfigError(loaded.file, [`${where([])}: missing; this config is not a lab config`]);
  // DR_LAB_ENGINE runs the same lab on the other engine: the test matrix and `bench:* -- --engine`.
  const engine = process.env.DR_LAB_ENGINE;
  const result = settings.safeParse(engine && raw && typeof raw === 'object' ? { ...raw, engine } : raw);
  const problems = result.success
    ? []
    : result.error.issues.map((i) =>
        engine && i.path[0] === 'engine' ? `DR_LAB_ENGINE=${engine}: must be mysql or mariadb` : `${where(i.path)}: ${i.message}`,
      );
  const ids = loaded.config.sites.map((s) => s.id);
  for (const sid of Object.keys(result.data?.kubeApiPorts ?? {})) {
    if (!ids.includes(sid)) problems.push(`${where(['kubeApiPorts', sid])}: unknown site '${sid}' (known sites: ${ids.join(', ')})`);
  }
  if (result.success && result.data.network) problems.push(...networkProblems(loaded, result.data.network, where));
  if (!result.success || problems.length) throw new ConfigError(loaded.file, problems);
  return result.data;
}

type Network = NonNullable<LabSettings['network']>;

/** Every site has an address in the subnet, and the config's hosts are those addresses. */
function networkProblems(loaded: LoadedConfig, net: Network, where: (path: readonly PropertyKey[]) => string): string[] {
  const problems: string[] = [];
  const c = loaded.config;
  const inSubnet = (ip: string) => ipInSubnet(ip, net.subnet);
  const at = (path: string) => `${loaded.file}: ${path}`;
  if (!inSubnet(net.observer)) problems.push(`${where(['network', 'observer'])}: ${net.observer} is not in ${net.subnet}`);
  for (const [sid, ip] of Object.entries(net.sites))
    if (!inSubnet(ip)) problems.push(`${where(['network', 'sites', sid])}: ${ip} is not in ${net.subnet}`);
  if (!net.sites[net.control]) problems.push(`${where(['network', 'control'])}: '${net.control}' has no address in network.sites`);
  if (c.sites.some((s) => s.id === net.control))
    problems.push(`${where(['network', 'control'])}: '${net.control}' is a database site; the control plane needs a site of its own`);
  c.sites.forEach((s, i) => {
    const ip = net.sites[s.id];
    if (!ip) return void problems.push(`${where(['network', 'sites'])}: site '${s.id}' has no address`);
    if (s.mysql.host !== ip) problems.push(`${at(`sites[${i}].mysql.host`)}: must be ${ip}, the address of site ${s.id} in x-lab.network`);
    if (s.proxysql && s.proxysql.host !== ip)
      problems.push(`${at(`sites[${i}].proxysql.host`)}: must be ${ip}, the address of site ${s.id} in x-lab.network`);
    for (const [field, endpoint] of [
      ['listen', s.haproxy?.listen],
      ['admin', s.haproxy?.admin],
    ] as const) {
      if (endpoint && 'host' in endpoint && endpoint.host !== ip)
        problems.push(`${at(`sites[${i}].haproxy.${field}.host`)}: must be ${ip}, the address of site ${s.id} in x-lab.network`);
    }
  });
  const control = net.sites[net.control];
  const temporalHost = c.temporal.address.split(':')[0];
  if (control && temporalHost !== control) problems.push(`${at('temporal.address')}: must be on ${control}, the control site ${net.control}`);
  return problems;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function ipInSubnet(ip: string, subnet: string): boolean {
  const [base, bits] = subnet.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base!) / size) * size;
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}
