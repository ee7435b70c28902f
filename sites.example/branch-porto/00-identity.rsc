/system identity set name="${{ site.name }}"
/system clock set time-zone-name=Europe/Lisbon
