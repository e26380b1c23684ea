/**
 * Small disks for the "nothing lost" tests (issue 14): a tmpfs of a given size
 * mounted in a test's folder (as root, else through `sudo -n`), remounted
 * bigger or read-only, and unmounted after each test. A test that needs one
 * fails, saying so, when neither may mount.
 */
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { afterEach } from 'vitest';

async function privileged(args: string[]): Promise<void> {
  const asRoot = await execa('mount', args, { reject: false });
  if (asRoot.exitCode === 0) return;
  const viaSudo = await execa('sudo', ['-n', 'mount', ...args], { reject: false });
  if (viaSudo.exitCode !== 0) throw new Error(`this test needs to mount a tmpfs (run as root or with sudo): ${asRoot.stderr} / ${viaSudo.stderr}`);
}

/** Call once at the top of a test file; returns the mount helpers, and unmounts after each test. */
export function useMounts() {
  const mounted: string[] = [];
  afterEach(async () => {
    for (const dir of mounted.splice(0).reverse()) {
      const r = await execa('umount', [dir], { reject: false });
      if (r.exitCode !== 0) await execa('sudo', ['-n', 'umount', dir], { reject: false });
    }
  });
  return {
    /** Mounts a tmpfs of `size` (e.g. '1m') at `dir`. */
    async mountTmpfs(dir: string, size: string): Promise<void> {
      mkdirSync(dir, { recursive: true });
      await privileged(['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
      mounted.push(dir);
    },
    /** Remounts `dir` with other options: `size=8m`, `ro`, `rw`. */
    async remount(dir: string, options: string): Promise<void> {
      await privileged(['-o', `remount,${options}`, dir]);
    },
  };
}
