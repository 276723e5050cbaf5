// With encryption on, a failure's message and stack go into an encoded attribute too: they name hosts, GTIDs and
// reasons as much as payloads do. Loaded by path (failureConverterPath), inside the workflow sandbox as well.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
