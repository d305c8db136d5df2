// Workflows for the provider tests only: nothing in workflows/ sends SMS yet, so the tests
// drive sendTemplatedSms through this one, bundled by the test itself.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { TemplatedSmsRequest } from '../../activities/sms-sending';

// The same shape of retry policy the contact workflow gives sendTemplatedEmail, with a shorter first interval.
const { sendTemplatedSms } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function sendOneSms(request: TemplatedSmsRequest): ReturnType<Activities['sendTemplatedSms']> {
  return sendTemplatedSms(request);
}
