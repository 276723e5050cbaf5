// The text of the lab's BIND servers: one primary that takes TSIG-signed updates and NOTIFYs its secondaries,
// and secondaries that transfer the zone (IXFR after the first AXFR) with the same key. Pure text; bind.ts
// writes it and starts the servers.
import { isIPv4, isIPv6 } from 'node:net';

export interface NamedServer {
  /** A DNS label: the daemon's name in the lab and the server's NS name (<name>.ns.<zone>). */
  name: string;
  /** An IP address: named listens on it. */
  host: string;
  port: number;
  /** The site's network namespace, when the lab has them. */
  netns?: string;
}

export interface BindZone {
  zoneName: string;
  /** The records the zone starts with. */
  records: Array<{ name: string; type: string; ttl: number; value: string }>;
  tsig: { name: string; algorithm: string; secret: string };
  primary: NamedServer;
  secondaries: NamedServer[];
}

/** The key clause both sides include, from a file of mode 0600 of its own. */
export function tsigKeyClause(tsig: BindZone['tsig']): string {
  return `key "${tsig.name}" {\n  algorithm ${tsig.algorithm};\n  secret "${tsig.secret}";\n};\n`;
}

/** Options every server shares: its own folder and address, authoritative only, logs to stderr (the lab's log). */
function common(server: NamedServer, dir: string, extra: string[]): string {
  return `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  listen-on port ${server.port} { ${server.host}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
${extra.map((line) => `  ${line}\n`).join('')}};
# No rndc: several servers share an address on loopback, and the lab stops them by pid.
controls { };
include "${dir}/tsig.key";
logging {
  channel lab { stderr; severity info; print-time yes; print-severity yes; print-category yes; };
  category default { lab; };
};
`;
}

export function primaryConf(zone: BindZone, dir: string): string {
  const key = `key "${zone.tsig.name}"`;
  const notify = zone.secondaries.map((s) => `${s.host} port ${s.port};`).join(' ');
  return `${common(zone.primary, dir, [
    // Only the secondaries listed here hear of a change, at once (notify-delay 0), not whatever the NS records name.
    'notify explicit;',
    'notify-delay 0;',
    `allow-transfer { ${key}; };`,
  ])}
zone "${bare(zone.zoneName)}" {
  type primary;
  file "zone.db";
  allow-update { ${key}; };
  also-notify { ${notify} };
};
`;
}

export function secondaryConf(zone: BindZone, server: NamedServer, dir: string): string {
  const { primary } = zone;
  return `${common(server, dir, [
    'notify no;',
    'allow-transfer { none; };',
    // A secondary that missed a NOTIFY (down, or cut off) asks again soon rather than after BIND's 5 minutes.
    'min-refresh-time 10;',
    'min-retry-time 5;',
  ])}
zone "${bare(zone.zoneName)}" {
  type secondary;
  file "zone.db";
  primaries { ${primary.host} port ${primary.port} key "${zone.tsig.name}"; };
};
`;
}

/** The zone as it starts: SOA, an NS (and its address) per server, and the configured records. */
export function zoneFile(zone: BindZone): string {
  const origin = fqdn(zone.zoneName);
  const servers = [zone.primary, ...zone.secondaries];
  const nsName = (server: NamedServer) => `${server.name}.ns.${origin}`;
  const lines = [
    `$ORIGIN ${origin}`,
    '$TTL 60',
    // serial refresh retry expire negative-TTL: short, so that a lab secondary notices a missed change soon.
    `@ IN SOA ${nsName(zone.primary)} hostmaster.${origin} 1 30 5 604800 5`,
    ...servers.map((server) => `@ IN NS ${isIPv4(server.host) || isIPv6(server.host) ? nsName(server) : fqdn(server.host)}`),
    ...servers.flatMap((server) =>
      isIPv4(server.host) ? [`${nsName(server)} IN A ${server.host}`] : isIPv6(server.host) ? [`${nsName(server)} IN AAAA ${server.host}`] : [],
    ),
    ...zone.records.map(
      (record) => `${fqdn(record.name)} ${record.ttl} IN ${record.type} ${record.type === 'CNAME' ? fqdn(record.value) : record.value}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function bare(name: string): string {
  return name.replace(/\.$/, '');
}
