# Addresses of the core router.
/ip address
:if ([:len [find address="10.0.0.1/24"]] = 0) do={ add address=10.0.0.1/24 interface=${{ vars.lan_bridge }} comment="core lan" }
:if ([:len [find address="10.255.0.1/24"]] = 0) do={ add address=10.255.0.1/24 interface=ether8 comment="management" }
/ip dhcp-client
:if ([:len [find interface=${{ vars.wan_interface }}]] = 0) do={ add interface=${{ vars.wan_interface }} disabled=no comment="isp uplink" }
