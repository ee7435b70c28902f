// The README's quick start, run as a new user would: `npm start` is the `demo` command, which
// reconciles sites.example against an in-process sandbox. It must end well, create every job once,
// and say so.
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

describe('quick start (npm start)', () => {
  it('validates, plans, applies, applies again with nothing sent, then applies a one-script commit', async () => {
    const res = await cli(['demo'], { cwd: process.cwd(), env: { RGO_LOG_LEVEL: 'warn' } });
    expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
    expect(res.stdout).toContain('== routeros-gitops apply (again: nothing changed, nothing is sent)');
    expect(res.stdout).toMatch(/No changes: nothing was sent/);
    const m = /created (\d+) jobs \(one per change, none twice\)/.exec(res.stdout);
    expect(Number(m?.[1])).toBeGreaterThan(10);
  }, 120_000);
});
