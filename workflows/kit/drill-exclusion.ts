// While a drill of a group runs, no other runbook of the group starts, except the drill's own children and,
// in a drill of detection, the failover the estate starts by itself (which is what the drill waits for).
import { patched, workflowInfo } from '@temporalio/workflow';
import { refuse } from './runbook';
import { control } from './sites';

export async function refuseDuringDrill(group: string, runbook: 'failover' | 'failback', mode?: 'planned' | 'unplanned'): Promise<void> {
  // patched: runs from before drills existed replay without the look-up.
  if (!patched('drill-exclusion')) return;
  const root = workflowInfo().root?.workflowId ?? workflowInfo().workflowId;
  const drills = (await control.runbooksOfGroup({ group })).filter((r) => r.type === 'drill' && r.workflowId !== root);
  const blocking = drills.filter((r) => !(runbook === 'failover' && mode === 'unplanned' && r.memo.recovery === 'detection'));
  if (blocking.length === 0) return;
  const running = blocking.map((r) => `${r.workflowId} (started ${r.startedAt})`).join(', ');
  throw refuse(
    `a drill of ${group} is running: ${running}; its cleanup fails back by itself. Abort it (drctl abort ${blocking[0]!.workflowId}) or wait for it to end`,
  );
}
