# Shape guest traffic so it never starves the office.
/queue simple
remove [find comment="gitops"]
add name=guests target=10.0.50.0/24 max-limit=50M/50M comment="gitops"
add name=voip target=10.0.60.0/24 priority=1/1 max-limit=10M/10M comment="gitops"
