// Rules across sections of a config: what makes a config that loads also workable. Each problem names the
// field it is about, so the loader can give the file, the path and the line.
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { WEEKDAYS } from '../domain/drill';
import { durationMs } from './schema';
type Problem = { path: PropertyKey[]; message: string };
/** A section of the raw document: any shape at all, so each field's type is checked before it is used. */
type Raw = Record<string, any>;

const listOf = (value: unknown): any[] => (Array.isArray(value) ? value : []);
const sectionOf = (value: unknown): Raw => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {});
const isText = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const siteIdsOf = (sites: any[]): string[] => sites.map((site) => site?.id).filter(isText);

/**
 * Cross-references between sections, and the rules that take more than one field. Runs on the raw document
 * even when the shapes are wrong, so that one pass reports every problem rather than the first layer of them.
 */
export function crossCheck(raw: unknown): Problem[] {
  const document = sectionOf(raw);
  const sites = listOf(document.sites);
  const groups = listOf(document.groups);
  return [
    ...checkSites(sites),
    ...sites.flatMap((site, index) => [...checkProxysql(sectionOf(site?.proxysql), index), ...checkRclone(sectionOf(site?.rclone), index)]),
    ...sites.flatMap((site, index) => checkHaproxy(sectionOf(site?.haproxy), index, sites)),
    ...checkEndpoints(sites),
    ...checkGroups(groups, sites),
    ...checkGroupDatabases(groups, sites),
    ...groups.flatMap((group, index) => checkServices(listOf(group?.services), index)),
    ...groups.flatMap((group, index) => checkSemiSync(sectionOf(group?.semiSync), listOf(group?.sites), index)),
    ...checkDns(sectionOf(document.dns), sites, groups),
    ...checkNotifications(sectionOf(document.notifications)),
    ...checkDrills(sectionOf(document.drills), sites, groups),
    ...checkDetection(document.detection, sites, groups),
  ];
}

/** Site ids are unique, and exactly one site is the primary. */
function checkSites(sites: any[]): Problem[] {
  const out: Problem[] = [];
  sites.forEach((site, index) => {
    // Positions in `sites`, not in the ids: a site without an id must not shift which one is the duplicate.
    if (isText(site?.id) && sites.findIndex((other) => other?.id === site.id) !== index) {
      out.push({ path: ['sites', index, 'id'], message: `duplicate site id '${site.id}'` });
    }
  });
  const primaries = sites.flatMap((site, index) => (site?.role === 'primary' ? [index] : []));
  if (sites.length > 0 && primaries.length === 0) out.push({ path: ['sites'], message: "no site has role 'primary'" });
  for (const index of primaries.slice(1)) {
    out.push({ path: ['sites', index, 'role'], message: `a second primary: exactly one site has role 'primary', and sites[${primaries[0]}] has it` });
  }
  return out;
}

/** ProxySQL sends reads and writes to hostgroups of their own. */
function checkProxysql(proxysql: Raw, siteIndex: number): Problem[] {
  if (!isNumber(proxysql.writerHostgroup) || proxysql.writerHostgroup !== proxysql.readerHostgroup) return [];
  return [
    {
      path: ['sites', siteIndex, 'proxysql', 'readerHostgroup'],
      message: `is also the writer hostgroup (${proxysql.writerHostgroup}): reads and writes need hostgroups of their own`,
    },
  ];
}

/** HAProxy's servers are named for known sites, one server each: a runbook finds a site's server by its id. */
function checkHaproxy(haproxy: Raw, siteIndex: number, sites: any[]): Problem[] {
  const out: Problem[] = [];
  const ids = siteIdsOf(sites);
  const servers = sectionOf(haproxy.servers);
  const nameOf = (id: string): unknown => (Object.hasOwn(servers, id) ? servers[id] : id);
  for (const [id, name] of Object.entries(servers)) {
    const at = ['sites', siteIndex, 'haproxy', 'servers', id];
    const twin = ids.find((other) => other !== id && nameOf(other) === name);
    if (!ids.includes(id)) out.push({ path: at, message: `unknown site '${id}' (known sites: ${[...new Set(ids)].join(', ') || 'none'})` });
    else if (isText(name) && twin !== undefined) out.push({ path: at, message: `server '${name}' is also site ${twin}'s: each site needs its own` });
  }
  return out;
}

/** The store's keys come as a pair, and each folder of the share is synced by one path only. */
function checkRclone(rclone: Raw, siteIndex: number): Problem[] {
  const at = (...rest: PropertyKey[]) => ['sites', siteIndex, 'rclone', ...rest];
  const out = pairProblems(rclone, 'accessKeyId', 'secretAccessKey', at(), "neither to use rclone's own credentials");
  const paths = listOf(rclone.paths).map((path) => (isText(path) ? folderOf(path) : null));
  paths.forEach((path, index) => {
    const earlier = path === null ? -1 : paths.findIndex((other, before) => before < index && other !== null && overlap(other, path));
    if (earlier < 0) return;
    const other = paths[earlier]!;
    const how = other === path ? 'is the same folder as' : isInside(path!, other) ? 'is inside' : 'holds';
    out.push({ path: at('paths', index), message: `${how} paths[${earlier}] '${other}': its files would be synced twice` });
  });
  return out;
}

/** A folder of the share as a comparable path: 'media/', './media' and 'media' are one folder. */
function folderOf(path: string): string | null {
  if (path.startsWith('/') || path.split('/').includes('..')) return null; // refused by the schema already
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return parts.length === 0 ? '.' : parts.join('/');
}

const isInside = (inner: string, outer: string): boolean => outer === '.' || inner.startsWith(`${outer}/`);
const overlap = (a: string, b: string): boolean => a === b || isInside(a, b) || isInside(b, a);

/** Two fields set together or not at all; the problem names the one that is missing. */
function pairProblems(section: Raw, first: string, second: string, at: PropertyKey[], neither: string): Problem[] {
  if ((section[first] === undefined) === (section[second] === undefined)) return [];
  const missing = section[first] === undefined ? first : second;
  return [{ path: [...at, missing], message: `${first} and ${second} go together: set both, or ${neither}` }];
}

/** No two databases, ProxySQL admin interfaces or HAProxy listeners share an address. */
function checkEndpoints(sites: any[]): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, string>();
  sites.forEach((site, index) => {
    for (const what of [['mysql'], ['proxysql'], ['haproxy', 'listen'], ['haproxy', 'admin']]) {
      const endpoint = what.reduce<any>((section, key) => section?.[key], site);
      if (!endpoint?.host || !endpoint?.port) continue;
      const key = `${endpoint.host}:${endpoint.port}`;
      if (seen.has(key)) out.push({ path: ['sites', index, ...what, 'port'], message: `${key} is also used by ${seen.get(key)}` });
      else seen.set(key, `sites[${index}].${what.join('.')}`);
    }
  });
  return out;
}

/** Each group names known sites, each once, the primary among them, and Kubernetes wherever it scales services. */
function checkGroups(groups: any[], sites: any[]): Problem[] {
  const out: Problem[] = [];
  const ids = siteIdsOf(sites);
  const known = `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  const primaries = sites.filter((site) => site?.role === 'primary' && isText(site.id));
  groups.forEach((group, groupIndex) => {
    const members = listOf(group?.sites);
    members.forEach((member, index) => {
      const at = ['groups', groupIndex, 'sites', index];
      if (!isText(member)) return;
      if (!ids.includes(member)) out.push({ path: at, message: `unknown site '${member}' (${known})` });
      else if (members.indexOf(member) !== index)
        out.push({ path: at, message: `site '${member}' is listed twice (first as groups[${groupIndex}].sites[${members.indexOf(member)}])` });
      else if (listOf(group.services).length > 0 && !sites.find((site) => site?.id === member)?.kubernetes) {
        out.push({ path: at, message: `site '${member}' has services to scale but no kubernetes section` });
      }
    });
    if (isText(group?.id) && groups.findIndex((other) => other?.id === group.id) !== groupIndex) {
      out.push({ path: ['groups', groupIndex, 'id'], message: `duplicate group id '${group.id}'` });
    }
    const primary = primaries.length === 1 ? primaries[0].id : undefined;
    if (primary !== undefined && members.length > 0 && members.every(isText) && !members.includes(primary)) {
      out.push({
        path: ['groups', groupIndex, 'sites'],
        message: `does not include the primary site '${primary}': a failover here would promote a second writer beside it`,
      });
    }
  });
  return out;
}

/**
 * A group with its own servers lists one for each of its sites and its own ProxySQL hostgroups; no two servers
 * share an address.
 */
function checkGroupDatabases(groups: any[], sites: any[]): Problem[] {
  const out: Problem[] = [];
  const addresses = new Map<string, string>();
  sites.forEach((site, index) => site?.mysql?.host && addresses.set(`${site.mysql.host}:${site.mysql.port}`, `sites[${index}].mysql`));
  const hostgroups = new Map<number, string>();
  sites.forEach((site) => {
    for (const key of ['writerHostgroup', 'readerHostgroup'])
      if (isNumber(site?.proxysql?.[key])) hostgroups.set(site.proxysql[key], `the sites' proxysql.${key}`);
  });
  groups.forEach((group, groupIndex) => {
    const databases = group?.databases;
    if (databases === undefined || databases === null || typeof databases !== 'object') return;
    const members = listOf(group.sites).filter(isText);
    for (const member of members)
      if (!(member in databases))
        out.push({ path: ['groups', groupIndex, 'databases'], message: `missing site '${member}': every site of the group needs its server` });
    for (const [site, db] of Object.entries(databases as Raw)) {
      const at = ['groups', groupIndex, 'databases', site];
      if (!members.includes(site)) out.push({ path: at, message: `'${site}' is not a site of this group (${members.join(', ')})` });
      const key = `${db?.host}:${db?.port}`;
      if (addresses.has(key)) out.push({ path: [...at, 'port'], message: `${key} is also used by ${addresses.get(key)}` });
      else addresses.set(key, `groups[${groupIndex}].databases.${site}`);
    }
    const routed = members.some((member) => sites.find((site) => site?.id === member)?.proxysql);
    if (routed && group.proxysql === undefined)
      out.push({
        path: ['groups', groupIndex, 'proxysql'],
        message: "required: the group's own writer and reader hostgroups in its sites' ProxySQL",
      });
    for (const key of ['writerHostgroup', 'readerHostgroup']) {
      const value = group.proxysql?.[key];
      if (!isNumber(value)) continue;
      if (hostgroups.has(value))
        out.push({ path: ['groups', groupIndex, 'proxysql', key], message: `hostgroup ${value} is also ${hostgroups.get(value)}` });
      else hostgroups.set(value, `groups[${groupIndex}].proxysql.${key}`);
    }
  });
  return out;
}

/** Semi-sync names sites of its own group, and no primary acknowledges its own commits. */
function checkSemiSync(semiSync: Raw, members: any[], groupIndex: number): Problem[] {
  const out: Problem[] = [];
  const inGroup = `sites of groups[${groupIndex}]: ${members.filter(isText).join(', ') || 'none'}`;
  for (const [primary, acknowledgers] of Object.entries(sectionOf(semiSync.acknowledgers))) {
    const at = ['groups', groupIndex, 'semiSync', 'acknowledgers', primary];
    if (!members.includes(primary)) out.push({ path: at, message: `'${primary}' is not a site of this group (${inGroup})` });
    listOf(acknowledgers).forEach((site, index) => {
      if (!isText(site)) return;
      if (site === primary) out.push({ path: [...at, index], message: `'${site}' cannot acknowledge its own commits` });
      else if (!members.includes(site)) out.push({ path: [...at, index], message: `'${site}' is not a site of this group (${inGroup})` });
    });
  }
  return out;
}

/** Each service of a group scales its own Deployment to sizes its HPA keeps. */
function checkServices(services: any[], groupIndex: number): Problem[] {
  const out: Problem[] = [];
  services.forEach((service, index) => {
    const at = (...rest: PropertyKey[]) => ['groups', groupIndex, 'services', index, ...rest];
    for (const field of ['name', 'deployment'] as const) {
      const earlier = isText(service?.[field]) ? services.findIndex((other) => other?.[field] === service[field]) : index;
      if (earlier === index) continue;
      const message =
        field === 'name'
          ? `duplicate service name '${service.name}' (first as groups[${groupIndex}].services[${earlier}])`
          : `Deployment '${service.deployment}' is also scaled by groups[${groupIndex}].services[${earlier}]: the two would fight over its size`;
      out.push({ path: at(field), message });
    }
    if (sectionOf(service?.production).replicas === 0) {
      out.push({ path: at('production', 'replicas'), message: 'a production size of 0 would leave the service without pods after a failover' });
    }
    for (const profile of ['production', 'standby'] as const) {
      out.push(...checkScale(sectionOf(service?.[profile]), isText(service?.hpa), at(profile)));
    }
  });
  return out;
}

/** minReplicas and maxReplicas set the HPA, so they need one; replicas within them, or the HPA undoes the scale at once. */
function checkScale(profile: Raw, hasHpa: boolean, at: PropertyKey[]): Problem[] {
  const { replicas, minReplicas: min, maxReplicas: max } = profile;
  if (!hasHpa) {
    return (['minReplicas', 'maxReplicas'] as const)
      .filter((field) => profile[field] !== undefined)
      .map((field) => ({ path: [...at, field], message: `sets the HPA's ${field}, but the service has no hpa` }));
  }
  if (!isNumber(replicas) || replicas === 0 || (isNumber(min) && isNumber(max) && min > max)) return [];
  if (isNumber(min) && replicas < min) {
    return [{ path: [...at, 'replicas'], message: `${replicas} is below minReplicas ${min}: the HPA would scale it up at once` }];
  }
  if (isNumber(max) && replicas > max) {
    return [{ path: [...at, 'replicas'], message: `${replicas} is above maxReplicas ${max}: the HPA would scale it down at once` }];
  }
  return [];
}

/** Route 53 names: case-insensitive, with the trailing dot optional. */
const dnsName = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** What Route 53 (and a resolver) accepts as the value of a record of each type. */
const VALUE_RULES: Record<string, { ok: (value: string) => boolean; error: string }> = {
  A: { ok: (value) => isIPv4(value), error: 'must be an IPv4 address, as an A record holds' },
  AAAA: { ok: (value) => isIPv6(value), error: 'must be an IPv6 address, as an AAAA record holds' },
  CNAME: {
    ok: (value) => isIP(value) === 0 && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(value),
    error: 'must be a host name, as a CNAME record holds (for an address use type A or AAAA)',
  },
};

/** Each record is a valid record of its zone, has one entry per name and type, and follows every site of its groups. */
function checkDns(dns: Raw, sites: any[], groups: any[]): Problem[] {
  const out: Problem[] = [];
  const ids = siteIdsOf(sites);
  const known = `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  const records = listOf(dns.records);
  records.forEach((record, index) => {
    const at = (...rest: PropertyKey[]) => ['dns', 'records', index, ...rest];
    const values = sectionOf(record?.values);
    for (const [site, value] of Object.entries(values)) {
      const rule = VALUE_RULES[String(record?.type)];
      if (!ids.includes(site)) out.push({ path: at('values', site), message: `record points at unknown site '${site}' (${known})` });
      else if (rule && isText(value) && value !== '' && !rule.ok(value)) out.push({ path: at('values', site), message: rule.error });
    }
    out.push(...checkRecordName(sectionOf(record), dns.zoneName, records.slice(0, index), at));
    out.push(...checkRecordSites(values, groups, ids, at('values')));
  });
  out.push(...checkDnsProvider(dns), ...checkRfc2136(sectionOf(dns.rfc2136), ids));
  return out;
}

/** Route 53's settings and the rfc2136 section each belong to their provider, and rfc2136 needs its section. */
function checkDnsProvider(dns: Raw): Problem[] {
  const rfc2136 = dns.provider === 'rfc2136';
  if (rfc2136 && dns.rfc2136 === undefined) {
    return [
      { path: ['dns', 'rfc2136'], message: 'required with provider: rfc2136 (primary, servers and tsig: where updates go and how they are signed)' },
    ];
  }
  if (!rfc2136 && dns.rfc2136 !== undefined) {
    return [{ path: ['dns', 'rfc2136'], message: 'is read only with provider: rfc2136; set dns.provider: rfc2136, or remove it to use Route 53' }];
  }
  if (!rfc2136) return [];
  return ['hostedZoneId', 'endpoint', 'region', 'accessKeyId', 'secretAccessKey']
    .filter((field) => dns[field] !== undefined)
    .map((field) => ({ path: ['dns', field], message: 'is a Route 53 setting; provider rfc2136 does not use it' }));
}

/** Each server once, the primary among them (it must answer too), and resolvers only for known sites. */
function checkRfc2136(rfc2136: Raw, ids: string[]): Problem[] {
  const out: Problem[] = [];
  const at = (...rest: PropertyKey[]) => ['dns', 'rfc2136', ...rest];
  const address = (server: unknown): string | null => {
    const { host, port } = sectionOf(server);
    return isText(host) ? `${host}:${isNumber(port) ? port : 53}` : null;
  };
  const servers = listOf(rfc2136.servers);
  servers.forEach((server, index) => {
    const name = server?.name;
    const earlier = servers.slice(0, index);
    if (isText(name) && earlier.some((other) => other?.name === name))
      out.push({ path: at('servers', index, 'name'), message: `duplicate server name '${name}'` });
    if (isText(server?.site) && !ids.includes(server.site))
      out.push({
        path: at('servers', index, 'site'),
        message: `unknown site '${server.site}' (known sites: ${[...new Set(ids)].join(', ') || 'none'})`,
      });
    const here = address(server);
    const same = here === null ? -1 : earlier.findIndex((other) => address(other) === here);
    if (same >= 0) out.push({ path: at('servers', index, 'port'), message: `${here} is also servers[${same}]` });
  });
  const primary = address(rfc2136.primary);
  if (primary !== null && servers.length > 0 && !servers.some((server) => address(server) === primary)) {
    out.push({
      path: at('servers'),
      message: `does not include the primary ${primary}: list every authoritative server, the primary too, since each must answer a change`,
    });
  }
  for (const site of Object.keys(sectionOf(rfc2136.resolvers))) {
    if (!ids.includes(site))
      out.push({ path: at('resolvers', site), message: `unknown site '${site}' (known sites: ${[...new Set(ids)].join(', ') || 'none'})` });
  }
  return out;
}

/** Route 53 refuses a record outside the zone, a CNAME at its apex, and one change that sets a record twice. */
function checkRecordName(record: Raw, zoneName: unknown, earlier: any[], at: (...rest: PropertyKey[]) => PropertyKey[]): Problem[] {
  if (!isText(record.name)) return [];
  const name = dnsName(record.name);
  if (isText(zoneName)) {
    const zone = dnsName(zoneName);
    if (name !== zone && !name.endsWith(`.${zone}`)) return [{ path: at('name'), message: `is not inside the zone ${zoneName}` }];
    if (name === zone && record.type === 'CNAME') return [{ path: at('type'), message: `a CNAME cannot be at the zone apex (${zoneName})` }];
  }
  const same = earlier.findIndex(
    (other) => isText(other?.name) && dnsName(other.name) === name && isText(record.type) && other?.type === record.type,
  );
  if (same >= 0) return [{ path: at('name'), message: `${record.name} ${record.type} is also records[${same}]: one change cannot set it twice` }];
  const clash = earlier.findIndex(
    (other) => isText(other?.name) && dnsName(other.name) === name && (other?.type === 'CNAME') !== (record.type === 'CNAME'),
  );
  if (clash >= 0)
    return [{ path: at('type'), message: `a CNAME cannot share its name with another record, and records[${clash}] is ${record.name} too` }];
  return [];
}

/**
 * Every failover points every record at its new primary, so a record needs a value for every site of every
 * group: a failover to a site without one would leave the record at the old site.
 */
function checkRecordSites(values: Raw, groups: any[], ids: string[], at: PropertyKey[]): Problem[] {
  const out: Problem[] = [];
  for (const group of groups) {
    const members = [...new Set(listOf(group?.sites).filter((member): member is string => isText(member) && ids.includes(member)))];
    const named = members.filter((member) => Object.hasOwn(values, member));
    for (const member of members.filter((member) => !named.includes(member))) {
      const has = named.length ? `it has ${named.join(', ')}` : 'it has none';
      out.push({
        path: at,
        message: `no value for site '${member}' of group '${String(group.id)}' (${has}): a failover to ${member} would leave it at the old site`,
      });
    }
  }
  return out;
}

/** Escalations name a target, targets have one name each, and each SMTP server is reached the way it listens. */
function checkNotifications(notifications: Raw): Problem[] {
  const out: Problem[] = [];
  const targets = (['webhooks', 'email'] as const).flatMap((section) =>
    listOf(notifications[section]).map((target, index) => ({ section, index, name: target?.name as unknown })),
  );
  const names = targets.map((target) => target.name);
  targets.forEach((target, position) => {
    const first = targets.findIndex((other) => isText(target.name) && other.name === target.name);
    if (first >= 0 && first < position) {
      const where = `notifications.${targets[first]!.section}[${targets[first]!.index}]`;
      out.push({ path: ['notifications', target.section, target.index, 'name'], message: `duplicate target name '${target.name}' (also ${where})` });
    }
  });
  listOf(notifications.escalateTo).forEach((name: unknown, index) => {
    if (isText(name) && !names.includes(name)) {
      out.push({
        path: ['notifications', 'escalateTo', index],
        message: `unknown notification target '${String(name)}' (known: ${names.filter(isText).join(', ') || 'none'})`,
      });
    }
  });
  listOf(notifications.email).forEach((mail, index) => out.push(...checkMailServer(sectionOf(mail), ['notifications', 'email', index])));
  return out;
}

/** Port 465 speaks TLS from the first byte; 25 and 587 start in plain text and upgrade with STARTTLS. */
function checkMailServer(mail: Raw, at: PropertyKey[]): Problem[] {
  const out = pairProblems(mail, 'user', 'password', at, 'neither for a server without login');
  if (mail.secure === true && (mail.port === 25 || mail.port === 587)) {
    out.push({
      path: [...at, 'secure'],
      message: `port ${mail.port} upgrades to TLS with STARTTLS: set secure: false (secure: true is for port 465)`,
    });
  }
  if (mail.secure !== true && mail.port === 465) {
    out.push({ path: [...at, 'secure'], message: 'port 465 speaks TLS from the first byte: set secure: true' });
  }
  return out;
}

/** Cities name known sites, each in one city; schedules name a group and one of its sites, at a time a window allows. */
function checkDrills(drills: Raw, sites: any[], groups: any[]): Problem[] {
  const stream = sectionOf(drills.stream);
  return [
    ...checkCities(sectionOf(drills.cities), siteIdsOf(sites)),
    ...checkDrillSchedules(listOf(drills.schedules), groups, listOf(drills.windows)),
    ...pairProblems(stream, 'user', 'password', ['drills', 'stream'], "neither to write as the runbook's user"),
  ];
}

function checkCities(cities: Raw, ids: string[]): Problem[] {
  const out: Problem[] = [];
  const known = `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  const cityOf = new Map<string, string>();
  for (const [city, members] of Object.entries(cities)) {
    listOf(members).forEach((site, index) => {
      if (!isText(site)) return;
      const at = ['drills', 'cities', city, index];
      const earlier = cityOf.get(site);
      if (!ids.includes(site)) out.push({ path: at, message: `unknown site '${site}' (${known})` });
      else if (earlier === city) out.push({ path: at, message: `site '${site}' is listed twice in city '${city}'` });
      else if (earlier !== undefined) out.push({ path: at, message: `site '${site}' is also in city '${earlier}': a site is in one city only` });
      else cityOf.set(site, city);
    });
  }
  return out;
}

function checkDrillSchedules(schedules: any[], groups: any[], windows: any[]): Problem[] {
  const out: Problem[] = [];
  const groupIds = groups.map((group) => group?.id).filter(isText);
  schedules.forEach((schedule, index) => {
    const at = (field: string) => ['drills', 'schedules', index, field];
    if (isText(schedule?.id)) {
      const first = schedules.findIndex((other) => other?.id === schedule.id);
      if (first !== index)
        out.push({ path: at('id'), message: `duplicate drill schedule id '${schedule.id}' (first as drills.schedules[${first}])` });
    }
    const group = isText(schedule?.group) ? groups.find((other) => other?.id === schedule.group) : undefined;
    if (isText(schedule?.group) && !group) {
      out.push({ path: at('group'), message: `unknown group '${schedule.group}' (known groups: ${groupIds.join(', ') || 'none'})` });
    }
    const members = listOf(group?.sites).filter(isText);
    if (group && isText(schedule?.site) && !members.includes(schedule.site)) {
      out.push({ path: at('site'), message: `'${schedule.site}' is not a site of group '${group.id}' (its sites: ${members.join(', ') || 'none'})` });
    }
    const outside = outsideWindows(schedule?.day, schedule?.at, windows);
    if (outside) out.push({ path: at('at'), message: outside });
  });
  return out;
}

/** A scheduled drill whose weekday and time no window allows would refuse itself every time; null when one allows it. */
function outsideWindows(day: unknown, at: unknown, windows: any[]): string | null {
  const isDay = (value: unknown): boolean => (WEEKDAYS as readonly unknown[]).includes(value);
  const isTime = (value: unknown): value is string => isText(value) && /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/.test(value);
  const wellFormed = windows.every(
    (window) =>
      Array.isArray(window?.days) &&
      window.days.length > 0 &&
      window.days.every(isDay) &&
      isTime(window.start) &&
      isTime(window.end) &&
      window.start < window.end,
  );
  if (!isDay(day) || !isTime(at) || windows.length === 0 || !wellFormed) return null;
  if (windows.some((window) => window.days.includes(day) && window.start <= at && at < window.end)) return null;
  const allowed = windows.map((window) => `${window.days.join(',')} ${window.start}-${window.end}`).join('; ');
  return `${String(day)} ${at} is outside every drill window (${allowed}): each run of this schedule would be refused`;
}

/**
 * The lease's arithmetic holds only when a promotion waits longer than an isolated primary takes to fence
 * itself; and every site of a group needs an agent to probe it and to hold or grant the lease.
 */
function checkDetection(raw: unknown, sites: any[], groups: any[]): Problem[] {
  if (raw === undefined || sectionOf(raw).enabled === false) return [];
  const lease = sectionOf(sectionOf(raw).lease);
  const ms = (value: unknown, fallback: number): number | null => {
    if (value === undefined) return fallback;
    try {
      return isText(value) ? durationMs(value) : null;
    } catch {
      return null;
    }
  };
  const out: Problem[] = [];
  const renew = ms(lease.renewEvery, 1000);
  const fence = ms(lease.fenceAfter, 2000);
  const promote = ms(lease.promoteAfter, (fence ?? 2000) + 1000);
  if (renew !== null && fence !== null && renew >= fence) {
    out.push({
      path: ['detection', 'lease', 'renewEvery'],
      message: `must be shorter than fenceAfter (${lease.fenceAfter ?? '2s'}): a primary would fence itself between two renewals`,
    });
  }
  if (fence !== null && promote !== null && promote <= fence) {
    out.push({
      path: ['detection', 'lease', 'promoteAfter'],
      message: `must be longer than fenceAfter (${lease.fenceAfter ?? '2s'}): a promotion could come before the isolated primary has fenced itself`,
    });
  }
  const members = new Set(groups.flatMap((group) => listOf(group?.sites)).filter(isText));
  sites.forEach((site, index) => {
    if (isText(site?.id) && members.has(site.id) && site?.agent === undefined) {
      out.push({
        path: ['sites', index, 'agent'],
        message: `is needed while detection is enabled: the site agent of ${site.id} probes it and holds or grants the lease`,
      });
    }
  });
  return out;
}
