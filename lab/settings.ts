// The lab's own section of a config file, `x-lab`: its extra ports. The product ignores `x-` keys;
// the lab checks this one with the same `file: field: message` errors as the product's loader.
import { z } from 'zod';
import { ConfigError, formatPath, type LoadedConfig } from '../config/load';

const port = z.number().int().min(1).max(65535);

const settings = z.strictObject({
  /** The database servers the lab runs: MySQL (the project's own 9.7 tree) or MariaDB (Debian's). */
  engine: z.enum(['mysql', 'mariadb']).default('mysql'),
  temporalUiPort: port.default(8233),
  motoPort: port.optional(),
  /** One Kubernetes control plane per site (lab/k8s-lab.sh): site id → kube-apiserver port. */
  kubeApiPorts: z.record(z.string(), port).optional(),
  /** The lab's S3-compatible store (rclone serve s3). */
  s3Port: port.optional(),
  /** The lab's notice sink: a Slack-style webhook receiver and an SMTP server, both writing to notices.jsonl. */
  notices: z.strictObject({ webhookPort: port, smtpPort: port }).optional(),
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
  if (!result.success || problems.length) throw new ConfigError(loaded.file, problems);
  return result.data;
}
