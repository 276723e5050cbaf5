// The hosted zone id, from the config or looked up by the zone's name (an emulator makes up its own ids).
import { ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { route53Client, type DnsConfig } from './dns';

export async function hostedZoneOf(dns: Omit<DnsConfig, 'hostedZoneId'> & { hostedZoneId?: string }, baseDir: string): Promise<string> {
  if (dns.hostedZoneId) return dns.hostedZoneId;
  // Not cached: an emulator's ids change when it restarts, and one extra call per activity is cheap.
  const client = route53Client({ ...dns, hostedZoneId: '' } as DnsConfig, baseDir);
  try {
    const name = dns.zoneName.endsWith('.') ? dns.zoneName : `${dns.zoneName}.`;
    const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }));
    const zone = out.HostedZones?.find((z) => z.Name === name);
    if (!zone?.Id) throw new Error(`dns: no hosted zone named ${name} at ${dns.endpoint ?? 'Route 53'}`);
    return zone.Id.replace(/^\/hostedzone\//, '');
  } finally {
    client.destroy();
  }
}
