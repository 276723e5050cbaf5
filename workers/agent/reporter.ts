// How an agent or the alert intake tells the control plane: signal-with-start on incident-<group>, so that
// the first report starts the incident and every later one (a repeat included) is a signal to it.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
import { connectClient } from '../../activities/temporal-access';
import type { IncidentSignal } from '../../domain/detection';
import { controlTaskQueue, incidentSignalName, incidentWorkflowId } from '../../domain/runs';

export class IncidentReporter {
  private client: Promise<Client> | undefined;

  constructor(private readonly loaded: LoadedConfig) {}

  /** A recovery only tells a running incident: by itself it is nothing to start one for. */
  async report(group: string, signal: IncidentSignal): Promise<{ workflowId: string; runId: string | null }> {
    const client = await (this.client ??= connectClient(this.loaded).then(
      (c) => c.client,
      (err) => {
        this.client = undefined;
        throw err;
      },
    ));
    const workflowId = incidentWorkflowId(group);
    if (isRecovery(signal)) {
      try {
        await client.workflow.getHandle(workflowId).signal(incidentSignalName, signal);
        return { workflowId, runId: null };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { workflowId, runId: null };
        throw err;
      }
    }
    const handle = await client.workflow.signalWithStart('incident', {
      workflowId,
      taskQueue: controlTaskQueue,
      args: [{ group }],
      signal: incidentSignalName,
      signalArgs: [signal],
    });
    return { workflowId: handle.workflowId, runId: handle.signaledRunId };
  }
}

const isRecovery = (s: IncidentSignal): boolean => (s.kind === 'alert' ? s.status === 'resolved' : s.what === 'recovered');
