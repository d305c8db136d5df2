import { defineSignal, setHandler } from '@temporalio/workflow';

/**
 * The baseline's stand-in for the contact lifecycle workflow: started by signalWithStart, it
 * takes the signal and completes in its first workflow task, so the baseline pays for the
 * start, the signal and one task, and nothing of the product's own work.
 */
export const benchPingSignal = defineSignal<[string]>('benchPing');

export async function benchNoop(): Promise<void> {
  setHandler(benchPingSignal, () => {});
}
