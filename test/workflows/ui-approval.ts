// Test-only workflow for the Temporal UI test: waits for an `approve` signal with an object and returns it beside
// its own input, so the test can tell what the UI sent from what the workflow was started with.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export interface UiApproval {
  by: string;
  reason: string;
}

export const approve = defineSignal<[UiApproval]>('approve');

export async function awaitUiApproval(input: { note: string }): Promise<{ input: { note: string }; approval: UiApproval }> {
  let approval: UiApproval | undefined;
  setHandler(approve, (given) => void (approval = given));
  await condition(() => approval !== undefined);
  return { input, approval: approval! };
}
