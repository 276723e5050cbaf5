// The lab's fixed ports must lie outside the kernel's ephemeral range: an outgoing connection (the
// Kubernetes components open hundreds) can hold such a port as its local end, and a server started
// later then fails to bind with EADDRINUSE although nothing listens there.
import { readFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/load';
import { temporalPort } from './services';
import { labOf } from './settings';
import { observabilityPorts } from './observability';
import { DEV_SERVER_PORT_OFFSET, devServerPort, temporalTlsOn } from './temporal-tls';

export interface LabPort {
  field: string;
  port: number;
}

export function labPorts(loaded: LoadedConfig): LabPort[] {
  const c = loaded.config;
  const lab = labOf(loaded);
  const out: LabPort[] = [
    { field: 'temporal.address', port: temporalPort(loaded) },
    { field: 'x-lab.temporalUiPort', port: lab.temporalUiPort },
  ];
  if (temporalTlsOn(loaded))
    out.push({ field: `temporal.address's port + ${DEV_SERVER_PORT_OFFSET} (the dev server behind the TLS proxy)`, port: devServerPort(loaded) });
  if (lab.motoPort) out.push({ field: 'x-lab.motoPort', port: lab.motoPort });
  if (lab.s3Port) out.push({ field: 'x-lab.s3Port', port: lab.s3Port });
  if (lab.notices)
    out.push({ field: 'x-lab.notices.webhookPort', port: lab.notices.webhookPort }, { field: 'x-lab.notices.smtpPort', port: lab.notices.smtpPort });
  for (const [site, port] of Object.entries(lab.kubeApiPorts ?? {})) out.push({ field: `x-lab.kubeApiPorts.${site}`, port });
  if (lab.observability) out.push(...observabilityPorts(loaded));
  if (c.detection) out.push({ field: 'detection.control.port', port: c.detection.control.port });
  if (c.temporal.codecServer) out.push({ field: 'temporal.codecServer.port', port: c.temporal.codecServer.port });
  c.sites.forEach((s, i) => {
    out.push({ field: `sites[${i}].mysql.port`, port: s.mysql.port });
    if (s.agent) out.push({ field: `sites[${i}].agent.port`, port: s.agent.port });
    if (s.proxysql) out.push({ field: `sites[${i}].proxysql.port`, port: s.proxysql.port });
    if (s.haproxy) out.push({ field: `sites[${i}].haproxy.listen.port`, port: s.haproxy.listen.port });
    if (s.haproxy && 'port' in s.haproxy.admin) out.push({ field: `sites[${i}].haproxy.admin.port`, port: s.haproxy.admin.port });
  });
  return out;
}

export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [lo, hi] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi) return [lo, hi];
  } catch {
    /* not Linux: use the IANA range */
  }
  return [49152, 65535];
}

/** Every problem at once, each naming the config file and field. */
export function portProblems(loaded: LoadedConfig, range = ephemeralRange()): string[] {
  const [lo, hi] = range;
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const { field, port } of labPorts(loaded)) {
    if (port >= lo && port <= hi)
      problems.push(
        `${loaded.file}: ${field}: port ${port} is inside the kernel's ephemeral port range ${lo}-${hi}; an outgoing connection can hold it, so pick a port below ${lo}`,
      );
    const other = seen.get(port);
    if (other) problems.push(`${loaded.file}: ${field}: port ${port} is also used by ${other}`);
    seen.set(port, field);
  }
  return problems;
}

export function assertLabPorts(loaded: LoadedConfig): void {
  const problems = portProblems(loaded);
  if (problems.length) throw new Error(`lab ports:\n  ${problems.join('\n  ')}`);
}
