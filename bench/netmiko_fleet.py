"""Drives the simulated routers the way Netmiko's documentation shows a fleet: one
ConnectHandler per device (cisco_ios driver), a pool of 10 threads, three show commands
each. Used by bench/router.rs when NETMIKO_PYTHON names a Python with netmiko installed.
Writes the number of devices that answered all three into ./netmiko_ok."""

import sys
from concurrent.futures import ThreadPoolExecutor

from netmiko import ConnectHandler

COMMANDS = ["show version", "show running-config", "show version"]


def one(line):
    host, port = line.split()
    conn = ConnectHandler(
        device_type="cisco_ios",
        host=host,
        port=int(port),
        username="admin",
        password="lab-pass",
        ssh_strict=False,
        system_host_keys=False,
        allow_agent=False,
        use_keys=False,
    )
    try:
        outputs = [conn.send_command(c) for c in COMMANDS]
    finally:
        conn.disconnect()
    return all("Version 1.0" in o or "hostname" in o for o in outputs)


def main():
    with open(sys.argv[1]) as f:
        devices = [l for l in f.read().splitlines() if l.strip()]
    ok = 0
    with ThreadPoolExecutor(max_workers=10) as pool:
        for result in pool.map(one, devices):
            ok += bool(result)
    with open("netmiko_ok", "w") as f:
        f.write(f"{ok}\n")


if __name__ == "__main__":
    main()
