import { fileURLToPath } from 'node:url';

/** The directory of the shipped playbooks and their `.cases.yaml`, wherever this package is installed. */
export const playbooksDirectory = fileURLToPath(new URL('.', import.meta.url));
