export { preflight } from './preflight';
export { failover } from './failover';
export { fenceOnReturn } from './fence-on-return';
export { failback } from './failback';
