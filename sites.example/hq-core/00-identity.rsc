/system identity set name="${{ site.name }}"
/system clock set time-zone-name=Europe/Lisbon
/system note set show-at-login=yes note="Managed by routeros-gitops: changes made here are overwritten."
