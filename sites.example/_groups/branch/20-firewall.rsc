# Firewall shared by every branch office (group "branch").
# routeros-gitops: allow input-drop, input-accept-removal
/ip firewall address-list
remove [find list=mgmt]
add list=mgmt address=${{ vars.mgmt_network }} comment="management network"
/ip firewall filter
remove [find comment~"^gitops:"]
add chain=input action=accept connection-state=established,related comment="gitops: established"
add chain=input action=accept src-address-list=mgmt comment="gitops: management"
add chain=input action=accept protocol=icmp comment="gitops: icmp"
add chain=input action=accept in-interface=${{ vars.lan_bridge }} comment="gitops: lan"
add chain=input action=drop comment="gitops: drop the rest"
add chain=forward action=fasttrack-connection connection-state=established,related hw-offload=yes comment="gitops: fasttrack"
add chain=forward action=accept connection-state=established,related comment="gitops: established"
add chain=forward action=drop connection-state=invalid comment="gitops: invalid"
/ip firewall nat
remove [find comment~"^gitops:"]
add chain=srcnat action=masquerade out-interface=${{ vars.wan_interface }} comment="gitops: masquerade"
