// The Organizations client and exactly the commands Riposte sends with it (see ./load.ts).
export { OrganizationsClient } from '@aws-sdk/client-organizations';
