/**
 * What `riposte build` put in the function (its `manifest.json`): the packages it was built with,
 * the playbooks with their hashes, the actions, the project's bundled files and the zip deployed.
 */
export type { Manifest as RiposteManifest } from '@riposte/cli';
