// Names that workers, runbooks and clients must agree on: task queues and workflow ids.
export const controlTaskQueue = 'dr-control';
export const siteTaskQueue = (site: string): string => `dr-site-${site}`;
/** Polled first by a returning site's worker: fences queued while the site was away. */
export const returnTaskQueue = (site: string): string => `dr-site-${site}-return`;

/** One failover per group at a time: the fixed id makes a second start fail while one runs. */
export const failoverWorkflowId = (group: string): string => `failover-${group}`;
/** One site failover per site at a time; each group's child still holds failover-<group>. */
export const siteFailoverWorkflowId = (site: string): string => `site-failover-${site}`;
/** One failback per group at a time, like failover. */
export const failbackWorkflowId = (group: string): string => `failback-${group}`;
/** `group`: a group with servers of its own, whose server at the site has its own fence. */
export const fenceOnReturnWorkflowId = (site: string, group?: string): string => `fence-on-return-${site}${group ? `-${group}` : ''}`;
/** A replica that was away at a failover: re-pointed at the new primary when it returns. */
export const repointOnReturnWorkflowId = (site: string, group?: string): string => `repoint-on-return-${site}${group ? `-${group}` : ''}`;
/** One drill per group at a time; a scheduled drill's id is this plus the schedule's timestamp. */
export const drillWorkflowId = (group: string): string => `drill-${group}`;
/** A scheduled drill: Temporal appends the action's time to the schedule's workflow id. */
export const isScheduledDrillOf = (group: string, workflowId: string): boolean =>
  new RegExp(`^drill-${group}-\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`).test(workflowId);
/** One incident per group: agents and Alertmanager signal-with-start it, so a repeat is a signal, not a second incident. */
export const incidentWorkflowId = (group: string): string => `incident-${group}`;
/** The signal every detection source sends (domain/detection.ts IncidentSignal), and the person's acknowledgement. */
export const incidentSignalName = 'report';
export const acknowledgeSignalName = 'acknowledge';
