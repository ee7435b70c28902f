// When sites an incremental plan takes unread (from the plan snapshot or the state's plan index)
// could make it differ from a full plan, because something about them is checked across the whole
// fleet rather than site by site. The incremental plan then gives way to a full one (issue 18).
import { secretsKeyCheck } from './keys.js';
import type { SecretSource } from './model.js';
import type { TreeEntry } from './ports.js';
import type { SnapshotSite } from './snapshot.js';
import { FLEET_STATE_ID, type AppliedState } from './state.js';

/**
 * Two site folders whose names map to the same environment prefix while such per-site secrets are
 * set: a full plan refuses the fleet (render-fleet.ts secretScopeClashes), and it can only see that
 * with every site in view.
 */
export function secretScopesClash(folders: readonly TreeEntry[], secrets: SecretSource): boolean {
  if (!secrets.envScope) return false;
  const seen = new Set<string>();
  for (const f of folders) {
    const scope = secrets.envScope(f.path.slice(f.path.lastIndexOf('/') + 1));
    if (!scope) continue;
    if (seen.has(scope)) return true;
    seen.add(scope);
  }
  return false;
}

/**
 * A site taken unread uses secrets, and the secrets key would be refused (missing, or not the one
 * the state was written with: reconcile.ts secretsKeyProblems), by a caller that checks it (apply
 * always; plan when secret values are supplied). The refusal counts and names every script that
 * uses secrets, so a plan that did not read them all cannot word it.
 */
export function secretsKeyInDoubt(clean: ReadonlyMap<string, SnapshotSite>, secrets: SecretSource, state: AppliedState, checked: boolean): boolean {
  if (!checked && !secrets.values().length) return false;
  let uses = false;
  for (const s of clean.values()) {
    if (s.secrets !== false) {
      uses = true;
      break;
    }
  }
  if (!uses) return false;
  if (!secrets.digestKey) return true;
  const recorded = state.sites[FLEET_STATE_ID]?.secrets_key_check;
  return !!recorded && recorded !== secretsKeyCheck(secrets.digestKey);
}
