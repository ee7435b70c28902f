# Core firewall: only management and established traffic reach the router.
# routeros-gitops: allow input-drop, input-accept-removal
/ip firewall filter
remove [find comment~"^gitops:"]
add chain=input action=accept connection-state=established,related comment="gitops: established"
add chain=input action=accept src-address=${{ vars.mgmt_network }} comment="gitops: management"
add chain=input action=accept protocol=icmp comment="gitops: icmp"
add chain=input action=drop in-interface=${{ vars.wan_interface }} comment="gitops: drop wan"
/ipv6 firewall filter
remove [find comment~"^gitops:"]
add chain=input action=accept connection-state=established,related comment="gitops: established"
add chain=input action=accept protocol=icmpv6 comment="gitops: icmpv6"
add chain=input action=drop in-interface=${{ vars.wan_interface }} comment="gitops: drop wan"
