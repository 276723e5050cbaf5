export { preflight } from './preflight';
