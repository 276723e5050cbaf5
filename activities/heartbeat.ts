// One heartbeat for every adapter: progress for `drctl status` and the UI, and a liveness signal for
// heartbeat timeouts. Outside an activity (a benchmark or a test calling the adapter directly) it does nothing.
import { Context } from '@temporalio/activity';

export function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* outside an activity */
  }
}
