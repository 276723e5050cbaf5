// Where install.sh unpacked MySQL (lab/mysql-tree.sh): the tools are wrappers that use the tree's own loader.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths';

export function mysqlTree(): { root: string; version: string; bin: string } {
  const env = readFileSync(join(ROOT, 'lab', 'mysql.env'), 'utf8');
  const version = /^MYSQL_VERSION=(.+)$/m.exec(env)![1]!.trim();
  const root = join(ROOT, '.cache', 'mysql', version);
  const bin = join(root, 'bin');
  if (!existsSync(join(bin, 'mysqld')))
    throw new Error(`MySQL ${version} is not installed in ${root}: run \`bash scripts/install.sh\` (it builds the tree from Debian unstable)`);
  return { root, version, bin };
}
