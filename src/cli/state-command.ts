// `state`: maintenance of the applied state, each under the apply lease (but break-lease) and each
// asking before it changes anything:
//   state break-lease       free the apply lease of a run that is gone for good
//   state accept-history    re-anchor the state after history was rewritten (a force-push)
//   state rekey             move the state's secret digests to a new RGO_SECRETS_KEY
import { acquireLease, breakLease, LeaseBusyError } from '../apply/lease.js';
import { makePlan } from '../core/engine.js';
import { InputError } from '../core/errors.js';
import { MIN_SECRETS_KEY_LENGTH, secretsKeyCheck } from '../core/keys.js';
import { describeHolder } from '../core/lease.js';
import type { SecretSource } from '../core/model.js';
import { FLEET_STATE_ID, FLEET_STATE_NAME, isLive, type StateUpdate } from '../core/state.js';
import { lintHook } from '../wiring/checks.js';
import type { Context } from './context.js';
import { parseOptions, type Parsed } from '../wiring/options.js';
import { STATE_SPEC } from './option-specs.js';
import { canAsk, confirm } from './prompt.js';

type StateOpts = Parsed<typeof STATE_SPEC>;

/** Ask, or take --yes; without a terminal and without --yes, refuse (exit 2) rather than act. */
async function agreed(ctx: Context, opts: StateOpts, question: string, what: string): Promise<boolean> {
  if (opts.yes) return true;
  if (!canAsk(ctx.io))
    throw new InputError({ file: '(command line)', message: `${what} needs a confirmation`, hint: 'run it on a terminal to be asked, or pass --yes' });
  return confirm(ctx.io, question);
}

export async function breakLeaseCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(STATE_SPEC, raw);
  const repo = await ctx.repo(opts);
  const store = await ctx.stateStore(repo, opts);
  try {
    const lease = await store.readLease();
    if (!lease?.holder) {
      ctx.out(`No run holds the apply lease of ${store.describe()}.\n`);
      return 0;
    }
    ctx.err(`The apply lease of ${store.describe()} is held by ${describeHolder(lease)}.\n`);
    ctx.err('Break it only if that run is gone for good: a run still going would keep sending while another starts.\n');
    if (!(await agreed(ctx, opts, 'Break the lease? [y/N] ', 'breaking the lease'))) {
      ctx.err('Nothing was changed.\n');
      return 1;
    }
    await breakLease(store);
    ctx.out(`The apply lease was broken (it was held by ${describeHolder(lease)}).\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function acceptHistoryCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(STATE_SPEC, raw);
  if (!opts.at)
    throw new InputError({
      file: '(command line)',
      message: 'state accept-history needs --at <commit>',
      hint: 'pass the commit the fleet now stands at, usually --at HEAD',
    });
  const repo = await ctx.repo(opts);
  const at = await repo.resolveCommit(opts.at);
  const store = await ctx.stateStore(repo, opts);
  try {
    return await withLease(ctx, store, 'state accept-history', at.sha, opts, async () => {
      const state = await store.load();
      const updates: StateUpdate[] = [];
      // Every entry whose last commit `at` does not descend from: a commit gone, on another line of
      // history, or newer. The fleet's frontier becomes `at` alone.
      for (const s of Object.values(state.sites)) {
        const fleet = s.site_id === FLEET_STATE_ID;
        const commits = fleet ? [...new Set([s.last_commit, ...(s.heads ?? []).map((h) => h.sha)])] : [s.last_commit];
        const rels = await Promise.all(commits.filter((c): c is string => !!c).map(async (c) => [c, await repo.relation(at.sha, c)] as const));
        const off = rels.filter(([, r]) => r !== 'descendant' && r !== 'same');
        if (!off.length) continue;
        updates.push({
          site_id: s.site_id,
          site: fleet ? FLEET_STATE_NAME : s.site,
          last_commit: at.sha,
          ...(fleet && { heads: [{ sha: at.sha, time: at.time }] }),
        });
        for (const [c, r] of off) {
          const what =
            r === 'unknown'
              ? 'which is not in this repository'
              : r === 'ancestor'
                ? `which is newer than ${at.sha.slice(0, 7)}`
                : 'which is on another line of history';
          ctx.err(`  ${fleet ? 'the fleet' : s.site}: applied at ${c.slice(0, 12)}, ${what}\n`);
        }
      }
      if (!updates.length) {
        ctx.out('Every commit the state was applied from is in this repository: nothing to accept.\n');
        return 0;
      }
      ctx.err(
        `These will count as applied from ${at.sha.slice(0, 12)} (${at.subject}): runs at older commits then send nothing to them (never backwards). Check first that the routers hold what that commit says, or apply it after.\n`,
      );
      if (
        !(await agreed(
          ctx,
          opts,
          `Accept ${at.sha.slice(0, 12)} as the last applied commit of ${updates.length} entr${updates.length === 1 ? 'y' : 'ies'}? [y/N] `,
          'accepting history',
        ))
      ) {
        ctx.err('Nothing was changed.\n');
        return 1;
      }
      await store.record(updates);
      ctx.out(`The state now counts ${updates.length} entr${updates.length === 1 ? 'y' : 'ies'} as applied from ${at.sha.slice(0, 12)}.\n`);
      return 0;
    });
  } finally {
    await store.close();
  }
}

export async function rekeyCommand(ctx: Context, raw: Record<string, unknown>): Promise<number> {
  const opts = parseOptions(STATE_SPEC, raw);
  const oldKey = ctx.io.env.RGO_OLD_SECRETS_KEY;
  const repo = await ctx.repo(opts);
  const secrets = await ctx.secrets(repo, opts);
  const newKey = secrets.digestKey;
  if (!oldKey || !newKey || oldKey.length < MIN_SECRETS_KEY_LENGTH) {
    throw new InputError({
      file: '(environment)',
      message: 'state rekey needs the old key in RGO_OLD_SECRETS_KEY and the new one in RGO_SECRETS_KEY',
      hint: 'set both, with the secrets themselves as for apply (RGO_SECRET_* or --secrets-file)',
    });
  }
  if (oldKey) ctx.addSecrets([oldKey]);
  const store = await ctx.stateStore(repo, opts);
  try {
    return await withLease(ctx, store, 'state rekey', null, opts, async () => {
      const under = (key: string): SecretSource => ({
        ...secrets,
        digestKey: key,
        get: (s, n) => secrets.get(s, n),
        values: () => secrets.values(),
        identity: undefined,
      });
      const req = { reader: repo, ref: opts.ref, sitesDir: opts.sites, lint: lintHook, readAll: true, keep: { display: false, body: false } };
      const before = await makePlan({ ...req, state: store, secrets: under(oldKey) });
      const recorded = before.state.sites[FLEET_STATE_ID]?.secrets_key_check;
      if (recorded && recorded !== secretsKeyCheck(oldKey)) {
        throw new InputError({
          file: '(environment)',
          message: `RGO_OLD_SECRETS_KEY is not the key the state was written with (check value ${recorded})`,
          hint: 'set RGO_OLD_SECRETS_KEY to the key in use until now',
        });
      }
      // Without a secret's value its digest under the new key cannot be made: moving the record anyway
      // would make the next apply see a change and send the script again (adversary break 4).
      const missing = before.desired.sites.flatMap((site) =>
        site.scripts.filter((sc) => sc.secretsMissing.length).map((sc) => `${sc.path} (${sc.secretsMissing.join(', ')})`),
      );
      if (missing.length) {
        throw new InputError({
          file: '(environment)',
          message: `state rekey needs the value of every secret the scripts use, and ${missing.length} script${missing.length === 1 ? ' lacks' : 's lack'} one: ${missing.slice(0, 5).join('; ')}${missing.length > 5 ? '; ...' : ''}; nothing was changed`,
          hint: 'run it where apply runs, with the same RGO_SECRET_* variables or --secrets-file, so that each digest can be made again under the new key',
        });
      }
      const after = await makePlan({ ...req, state: before.state, secrets: under(newKey) });
      const updates: StateUpdate[] = [];
      for (const site of before.desired.sites) {
        const next = after.desired.sites.find((s) => s.id === site.id);
        for (const sc of site.scripts) {
          const rec = before.state.sites[site.id]?.scripts[sc.file];
          const now = next?.scripts.find((x) => x.file === sc.file);
          if (!sc.uses.secrets.length || !isLive(rec) || !now || rec.fingerprint !== sc.fingerprint) continue;
          updates.push({
            site_id: site.id,
            site: site.name,
            file: sc.file,
            record: { ...rec, fingerprint: now.fingerprint, secret_digests: now.secretDigests, source: { blob: now.blob, inputs: now.inputs } },
          });
        }
      }
      const skipped = before.desired.sites.flatMap((s) => s.scripts).filter((sc) => sc.uses.secrets.length).length - updates.length;
      ctx.err(
        `${updates.length} script record(s) move to the new key${skipped ? `; ${skipped} do not match what the state recorded under the old key (they are changes, and stay so)` : ''}.\n`,
      );
      if (!(await agreed(ctx, opts, 'Rewrite the state under the new key? [y/N] ', 'rekeying the state'))) {
        ctx.err('Nothing was changed.\n');
        return 1;
      }
      updates.push({ site_id: FLEET_STATE_ID, site: FLEET_STATE_NAME, secrets_key_check: secretsKeyCheck(newKey) });
      await store.record(updates);
      ctx.out(`The state's secret digests are now made with the new key (check value ${secretsKeyCheck(newKey)}).\n`);
      return 0;
    });
  } finally {
    await store.close();
  }
}

async function withLease(
  ctx: Context,
  store: Parameters<typeof acquireLease>[0],
  purpose: string,
  commit: string | null,
  opts: StateOpts,
  fn: () => Promise<number>,
): Promise<number> {
  const waitMs = opts.leaseTimeout ?? 60_000;
  let held: Awaited<ReturnType<typeof acquireLease>>;
  try {
    held = await acquireLease(store, {
      purpose,
      commit,
      waitMs,
      signal: ctx.io.signal,
      logger: ctx.logger,
      onWait: (l) => ctx.err(`waiting for the apply lease, held by ${describeHolder(l)}\n`),
    });
  } catch (e) {
    if (!(e instanceof LeaseBusyError)) throw e;
    ctx.err(`error: ${e.message}\n`);
    return 1;
  }
  try {
    return await fn();
  } finally {
    await store.close();
    await held.release();
  }
}
