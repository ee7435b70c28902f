# The ISP's PPPoE login. The password is a secret: it is supplied at apply time
# (RGO_SECRET_PPPOE_PASSWORD, or --secrets-file) and never stored in this repository.
/interface pppoe-client
:if ([:len [find name=pppoe-isp]] = 0) do={ add name=pppoe-isp interface=${{ vars.wan_interface }} add-default-route=yes disabled=no }
set [find name=pppoe-isp] user="lisbon@isp.example" password="${{ secrets.pppoe_password }}"
