/interface bridge
:if ([:len [find name=bridge-lan]] = 0) do={ add name=bridge-lan comment="gitops" }
/ip address
:if ([:len [find address="${{ vars.lan_address }}"]] = 0) do={ add address=${{ vars.lan_address }} interface=bridge-lan }
/ip pool
:if ([:len [find name=lan]] = 0) do={ add name=lan ranges=${{ vars.lan_network }} }
