// Issue 14: `apply` on a terminal shows the plan and asks "Send N jobs to M sites? (yes/no)"; only
// "yes" sends. Run through a real pseudo-terminal (util-linux `script`), as a person at a terminal
// would: the built CLI as a child, its stdin, stdout and stderr the terminal; the sandbox over
// loopback counts what was sent. Without a terminal (every other test, CI, the Action, the
// daemon) nothing is asked.
import { describe, expect, it } from 'vitest';
import { cli, fleetFiles, SITE_IDS } from './helpers/cli.js';
import { recordPosts, useLifecycle } from './helpers/lifecycle.js';
import { onTerminal } from './helpers/terminal.js';

const life = useLifecycle();

describe('apply asks before sending on a terminal (issue 14)', () => {
  it('shows the plan with its findings and diffs, asks, and sends nothing on "no"; sends on "yes"', async () => {
    const posts = recordPosts();
    const files = fleetFiles(2);
    files['sites/site-1/20-dns-static.rsc'] = '/ip dns static add name=nas.lan address=10.0.0.9\n';
    const { r, sb, env } = await life.fleet(files, { inspectRequest: posts.inspect });
    const prompt = 'Send 5 jobs to 2 sites? (yes/no)';

    const no = await onTerminal(['apply'], { cwd: r.dir, env, prompt, answer: 'no' });
    expect(no.code, no.screen).toBe(1);
    expect(no.screen).toMatch(/Plan: 5 to add, 0 to modify, 0 removed on 2 of 2 sites; 5 jobs to send\./);
    expect(no.screen).toMatch(/advice sites\/site-1\/20-dns-static\.rsc:1:1 this add to \/ip dns static has no guard/);
    expect(no.screen).toContain('+/ip dns set servers=1.1.1.1');
    expect(no.screen.indexOf('Plan: 5 to add')).toBeLessThan(no.screen.indexOf(prompt));
    expect(no.screen).toContain('Apply cancelled: nothing was sent.');
    expect(posts.posts).toEqual([]);
    expect(sb.stats().jobsCreated).toBe(0);

    const yes = await onTerminal(['apply'], { cwd: r.dir, env, prompt, answer: 'yes' });
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toMatch(/Apply at [0-9a-f]{7}: 5 succeeded\./);
    expect(sb.stats().jobsCreated).toBe(5);
    expect(new Set(posts.posts.map((p) => p.site))).toEqual(new Set([SITE_IDS[0], SITE_IDS[1]]));
  }, 120_000);

  it('asks nothing with --yes, nor when there is nothing to send, nor without a terminal', async () => {
    const { r, sb, env } = await life.fleet(fleetFiles(1));
    // Without a terminal (the in-process CLI has no stdin): it applies without a word of question.
    const piped = await cli(['apply'], { cwd: r.dir, env });
    expect(piped.code).toBe(0);
    expect(piped.stdout + piped.stderr).not.toContain('(yes/no)');
    expect(sb.stats().jobsCreated).toBe(2);
    await r.commit({ 'sites/site-1/10-dns.rsc': '/ip dns set servers=9.9.9.9\n' }, 'quad9');
    const yes = await onTerminal(['apply', '--yes'], { cwd: r.dir, env, prompt: '(yes/no)', answer: 'no' });
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).not.toContain('(yes/no)');
    expect(sb.stats().jobsCreated).toBe(3);
    const nothing = await onTerminal(['apply'], { cwd: r.dir, env, prompt: '(yes/no)', answer: 'no' });
    expect(nothing.code, nothing.screen).toBe(0);
    expect(nothing.screen).toMatch(/No changes: nothing was sent/);
    expect(nothing.screen).not.toContain('(yes/no)');
  }, 120_000);
});
