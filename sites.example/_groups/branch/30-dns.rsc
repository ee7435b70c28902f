# DNS and time for branch offices.
/ip dns set servers=${{ vars.dns_servers }} allow-remote-requests=yes cache-size=4096KiB
/system ntp client set enabled=yes
/system ntp client servers
remove [find address="${{ vars.ntp_server }}"]
add address=${{ vars.ntp_server }}
