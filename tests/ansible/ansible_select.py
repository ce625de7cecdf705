"""The hosts ansible-core selects for each pattern on stdin (one per line), printed as JSON.

It makes the call `ansible PATTERN --list-hosts -i SOURCE...` makes (the ad-hoc CLI's
`get_host_list`, including its "no hosts" error), for many patterns in one process: one
Python start per pattern would make the differential test minutes long. The test checks
this script against the real `ansible` command for a sample of the patterns.
"""
import json
import sys

from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader

inventory = InventoryManager(loader=DataLoader(), sources=sys.argv[1:])
out = []
for pattern in sys.stdin.read().splitlines():
    if not pattern.strip():
        continue
    try:
        hosts = [str(h) for h in inventory.list_hosts(pattern)]
        if not hosts:
            raise AnsibleError("Specified inventory, host pattern and/or --limit leaves us with no hosts to target.")
        out.append({"pattern": pattern, "hosts": hosts})
    except AnsibleError as e:
        out.append({"pattern": pattern, "error": str(e).splitlines()[0]})
print(json.dumps(out))
