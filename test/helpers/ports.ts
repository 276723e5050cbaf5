// A free loopback port for a server a test starts itself.
export { freePort } from '../../lab/procs';
