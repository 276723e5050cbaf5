// Decisions as the lab's approvers send them: signed with the key the lab made for them (what drctl does with
// --key), for the run and the step it waits at now.
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
import { controlArgument, type ControlVerb, type Plain } from '../../cli/sign';
import { approverPrivateKey } from '../../lab/approver-keys';

/** The argument for the Update or the signal `verb`, signed by `p.by` when the config gives them a key. */
export async function signedArgument(loaded: LoadedConfig, handle: WorkflowHandle, verb: ControlVerb, p: Plain): Promise<object> {
  const keyed = loaded.config.approval.approvers.some((a) => typeof a !== 'string' && a.name === p.by);
  return controlArgument(loaded, handle, verb, p, keyed ? approverPrivateKey(loaded, p.by) : undefined);
}

/** Sends `verb` as a signal, signed. */
export async function signSignal(loaded: LoadedConfig, handle: WorkflowHandle, verb: ControlVerb, p: Plain): Promise<void> {
  const arg = (await signedArgument(loaded, handle, verb, p)) as Record<string, unknown>;
  // A signal carries its decision in its name: only the statement (or { by, reason }) goes with it.
  delete arg.decision;
  delete arg.action;
  await handle.signal(verb, arg);
}
