// The fleet the incremental-plan suites start from (plan-snapshot, plan-index): four sites, two of
// them in a group with a shared script, variables from the fleet file and the group, and a file in
// the sites directory that is not a site.
import { SITE_IDS } from './cli.js';

export function groupFleet(): Record<string, string> {
  const files: Record<string, string> = {
    'sites/routeros-gitops.yaml': 'vars:\n  dns: 1.1.1.1\ngroups:\n  core:\n    vars:\n      bridge: bridge-lan\n',
    'sites/_groups/core/20-firewall.rsc': '/ip firewall filter add chain=forward action=accept in-interface=${{ vars.bridge }}\n',
    'sites/README.md': 'One folder per site.\n',
  };
  SITE_IDS.forEach((id, i) => {
    files[`sites/site-${i + 1}/site.yaml`] = `id: ${id}\n${i < 2 ? 'groups: [core]\n' : ''}`;
    files[`sites/site-${i + 1}/00-identity.rsc`] = '/system identity set name=${{ site.name }}\n';
    files[`sites/site-${i + 1}/10-dns.rsc`] = '/ip dns set servers=${{ vars.dns }}\n';
  });
  return files;
}
