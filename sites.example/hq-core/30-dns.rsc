/ip dns set servers=${{ vars.dns_servers }} allow-remote-requests=yes
/ip dns static
remove [find comment="gitops"]
add name=router.hq.example.net address=10.0.0.1 comment="gitops"
add name=nas.hq.example.net address=10.0.0.20 comment="gitops"
