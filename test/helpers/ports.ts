// A free loopback port for a server a test starts itself.
export { freePort } from '../../scripts/lab/procs';
