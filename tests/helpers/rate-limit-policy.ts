import type { LimitPolicy } from '../../server/modules/ratelimit/rate-limit.service.ts';

/** 30 per hour, no lockout: nothing refills while the test runs. */
export const TWO_PROCESS_POLICY: LimitPolicy = { name: 'test.two_process', capacity: 30, refillPerSecond: 30 / 3600 };
