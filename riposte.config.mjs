// This repository's own Riposte project: the shipped playbooks, the built-in actions. `pnpm build`
// builds its function into dist/riposte/, which the end-to-end, security and benchmark suites run.
import { defineConfig } from '@riposte/cli';

export default defineConfig({
  playbooks: ['@riposte/rules'],
});
