export { preflight } from './preflight';
export { failover } from './failover';
export { fenceOnReturn } from './fence-on-return';
export { fileSync, restoreFiles } from './file-sync';
export { failback } from './failback';
export { repointOnReturn } from './repoint-on-return';
export { drill } from './drill';
export { incident } from './incident';
export { siteFailover } from './site-failover';
