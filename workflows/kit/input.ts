// Input checks every runbook makes against the plan. A bad input fails the run at once, naming the field.
import { ApplicationFailure } from '@temporalio/workflow';
import type { Plan } from '../../domain/plan';

export const badInput = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, 'BadInput');

/** The input is an object with a known group, and each named field is a known site of that group. */
export function checkGroupSites<Input extends { group: string }>(
  plan: Plan,
  input: Input,
  shape: string,
  siteFields: ReadonlyArray<keyof Input & string>,
): Plan['groups'][number] {
  if (!input || typeof input !== 'object') throw badInput(`input must be ${shape}`);
  const group = plan.groups.find((g) => g.id === input.group);
  if (!group) throw badInput(`input.group: unknown group '${input.group}' (known groups: ${plan.groups.map((g) => g.id).join(', ')})`);
  const known = plan.sites.map((s) => s.id);
  for (const field of siteFields) {
    const site = input[field] as unknown as string;
    if (!known.includes(site)) throw badInput(`input.${field}: unknown site '${site}' (known sites: ${known.join(', ')})`);
    if (!group.sites.includes(site)) throw badInput(`input.${field}: site '${site}' is not in group ${group.id} (${group.sites.join(', ')})`);
  }
  return group;
}

/** A flag that only an approver may set when starting a run. */
export function approverOnly(plan: Plan, flag: string, set: boolean | undefined, requestedBy: string, what: string): void {
  if (set && !plan.approval.approvers.includes(requestedBy)) {
    throw badInput(
      `input.${flag}: only an approver may ${what}; '${requestedBy}' is not one (approvers: ${plan.approval.approvers.join(', ') || 'none'})`,
    );
  }
}
