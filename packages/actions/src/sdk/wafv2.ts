// The WAFV2 client and exactly the commands Riposte sends with it (see ./load.ts).
export { GetIPSetCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
