#!/usr/bin/env bash
# ssh fan-out benchmark: N real sshd endpoints on 127.0.0.1 (16 per sshd process), then
# `drover exec ... -- echo ok` on the native backend (russh in the process), on the openssh
# backend (a ControlMaster per host), and the floor — the same fan-out with `xargs -P` and
# plain `ssh` — at concurrency 10 and 100, all with the same key exchange
# (curve25519-sha256, ed25519 host key). Prints wall time, CPU time (drover or xargs and
# every process under it, ssh masters included: a subreaper collects the forked masters)
# and drover's own peak RSS. drover gets
# generous connect and command timeouts, as plain ssh has none here: with the sshd processes
# on the same 2 cores, 100 handshakes at once can take longer than the 10 s default.
#
#   bench/ssh.sh                 # 200 and 1000 endpoints
#   bench/ssh.sh 50 200          # other sizes
#   DROVER=target/debug/drover bench/ssh.sh 50
#
# Loopback only. Needs sshd, ssh, ssh-keygen, python3. Run as the user the sshd processes
# may log in as (root in the dev container). Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${DROVER:-target/release/drover}
SIZES=${*:-200 1000}
CONCURRENCY=${CONCURRENCY:-10 100}
[ -x "$BIN" ] || cargo build --release --quiet
BIN=$(realpath "$BIN")

work=$(mktemp -d /tmp/drover-bench.XXXXXX)
groups=()
cleanup() {
  for g in "${groups[@]}"; do kill -9 -- "-$g" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p /run/sshd

ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
cat >"$work/ssh_config" <<EOF
Host *
  User $(id -un)
  UserKnownHostsFile $work/known_hosts
  GlobalKnownHostsFile /dev/null
  IdentityFile $work/client_key
  IdentitiesOnly yes
  BatchMode yes
  KexAlgorithms curve25519-sha256
  LogLevel ERROR
EOF

# Runs "$@" as a child subreaper and prints "wall_s cpu_s peak_rss_kib exit": every
# descendant (also ssh masters that fork away with -f) is reaped and its CPU counted; the
# peak RSS is the direct child's own (VmHWM, sampled until it exits), not its children's.
measure() {
  python3 - "$@" <<'PY'
import ctypes, os, resource, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
start = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
hwm = 0
while p.poll() is None:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.02)
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {ru.ru_utime + ru.ru_stime:.2f} {hwm} {p.returncode}")
PY
}

# Brings up $1 endpoints; writes ports, known_hosts and inv.yml under $work/$1.
up() {
  local n=$1 d="$work/$1"
  mkdir -p "$d"
  python3 - "$n" >"$d/ports" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
for s in socks:
    print(s.getsockname()[1])
PY
  local key
  key=$(cut -d' ' -f1,2 "$work/host_key.pub")
  awk -v key="$key" '{ print "[127.0.0.1]:" $1 " " key }' "$d/ports" >>"$work/known_hosts"
  {
    printf 'defaults:\n  transport: ssh\n  ssh_config: %s\nhosts:\n' "$work/ssh_config"
    awk '{ printf "  h%04d:\n    address: 127.0.0.1\n    port: %s\n", NR, $1 }' "$d/ports"
  } >"$d/inv.yml"
  {
    printf 'defaults:\n  transport: ssh\n  ssh_backend: native\n'
    printf '  ssh_identity_file: %s\n  known_hosts_file: %s\n' "$work/client_key" "$work/known_hosts"
    printf '  ssh_kex: [curve25519-sha256]\nhosts:\n'
    awk '{ printf "  h%04d:\n    address: 127.0.0.1\n    port: %s\n", NR, $1 }' "$d/ports"
  } >"$d/inv-native.yml"
  split -l 16 -d -a 3 "$d/ports" "$d/chunk."
  for chunk in "$d"/chunk.*; do
    {
      sed 's/.*/ListenAddress 127.0.0.1:&/' "$chunk"
      cat <<EOF
HostKey $work/host_key
PidFile none
UsePAM no
StrictModes no
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
MaxStartups 1000:30:2000
UseDNS no
PrintMotd no
LogLevel ERROR
SetEnv HOME=$work
EOF
    } >"$chunk.conf"
    setsid /usr/sbin/sshd -D -f "$chunk.conf" </dev/null >/dev/null 2>&1 &
    groups+=("$!")
    disown "$!"
  done
  local port
  while read -r port; do
    for _ in $(seq 1 200); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.05
    done
  done <"$d/ports"
}

# Host outcomes of a report, by error kind.
kinds() {
  python3 - "$1" <<'PY'
import collections, json, sys
hosts = json.load(open(sys.argv[1]))["hosts"]
print(dict(collections.Counter((h["error"] or {}).get("kind", "ok") for h in hosts)))
PY
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# drover exec on inventory $1, report $2: prints "wall_s cpu_s peak_rss_kib exit".
drover() {
  measure "$BIN" exec -i "$1" all \
    --strategy rolling --batch-size 0 --concurrency "$c" \
    --connect-timeout 120s --command-timeout 120s \
    --rate 100000/s --burst 100000 --state-dir "$work/state" \
    --report "$2" -- echo ok
}

printf '| endpoints | concurrency | native wall | native CPU | native CPU/host | native RSS | openssh wall | openssh CPU | openssh RSS | floor wall | floor CPU | native/floor wall |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for n in $SIZES; do
  up "$n"
  d="$work/$n"
  for c in $CONCURRENCY; do
    read -r nw nc nrss ncode < <(drover "$d/inv-native.yml" "$d/native-$c.json")
    read -r ow oc orss ocode < <(drover "$d/inv.yml" "$d/openssh-$c.json")
    read -r fw fc _ fcode < <(measure sh -c \
      "xargs -P $c -I{} ssh -F '$work/ssh_config' -p {} 127.0.0.1 echo ok <'$d/ports'")
    per_host=$(python3 -c "print(f'{$nc * 1000 / $n:.1f}')")
    printf '| %s | %s | %ss | %ss | %s ms | %s MiB | %ss | %ss | %s MiB | %ss | %ss | %s |' \
      "$n" "$c" "$nw" "$nc" "$per_host" "$((nrss / 1024))" "$ow" "$oc" "$((orss / 1024))" \
      "$fw" "$fc" "$(ratio "$nw" "$fw")"
    if [ "$ncode" != 0 ] || [ "$ocode" != 0 ] || [ "$fcode" != 0 ]; then
      printf ' native exit %s (%s), openssh exit %s (%s), floor exit %s' \
        "$ncode" "$(kinds "$d/native-$c.json")" "$ocode" "$(kinds "$d/openssh-$c.json")" "$fcode"
    fi
    printf '\n'
  done
done
