#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (slurmctld + slurmd + munge, Debian packages)
# and wait until its node is idle. Needs root. Idempotent: daemons already running are restarted
# with the current configuration.
#
#   tools/slurm/start_local_slurm.sh          # start (installs the packages if missing)
#   tools/slurm/start_local_slurm.sh stop     # stop the daemons this script started
#
# Environment: ATO_SLURM_STATE (state, logs, pid files; default /var/tmp/ato-slurm),
# ATO_SLURM_CPUS (default 2), ATO_SLURM_MEMORY_MB (default 4096), ATO_SLURM_PARTITION
# (default debug), ATO_SLURM_WAIT_S (seconds to wait for the node, default 60).
# The configuration is written to /etc/slurm/slurm.conf, where sinfo/sbatch/submitit read it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${ATO_SLURM_STATE:-/var/tmp/ato-slurm}"
cpus="${ATO_SLURM_CPUS:-2}"
memory_mb="${ATO_SLURM_MEMORY_MB:-4096}"
partition="${ATO_SLURM_PARTITION:-debug}"
wait_s="${ATO_SLURM_WAIT_S:-60}"
conf=/etc/slurm/slurm.conf
host="$(hostname -s)"

stop_daemons() {
    local pid
    for name in slurmd slurmctld; do
        pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
        rm -f "$state/$name.pid"
    done
}

if [[ "${1:-start}" == "stop" ]]; then
    stop_daemons
    exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "start_local_slurm.sh: run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sinfo >/dev/null \
    || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q slurmctld slurmd slurm-client munge
fi

# munge: the key and the daemon that signs SLURM's messages.
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 700 /etc/munge && chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
fi

stop_daemons
mkdir -p "$state/ctld" "$state/slurmd" /etc/slurm
sed -e "s|@HOST@|$host|g" -e "s|@STATE@|$state|g" -e "s|@CPUS@|$cpus|g" \
    -e "s|@MEMORY_MB@|$memory_mb|g" -e "s|@PARTITION@|$partition|g" \
    -e "s|@CTLD_PORT@|${ATO_SLURM_CTLD_PORT:-6817}|g" -e "s|@SLURMD_PORT@|${ATO_SLURM_SLURMD_PORT:-6818}|g" \
    "$here/slurm.conf.in" > "$conf"

# -c: start from a clean state (no jobs of an earlier cluster).
/usr/sbin/slurmctld -c -f "$conf"
/usr/sbin/slurmd -f "$conf"

for _ in $(seq "$((wait_s * 2))"); do
    node_state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
    if [[ "$node_state" == idle ]]; then
        echo "SLURM is up: node $host idle with $cpus CPUs in partition $partition (logs in $state)"
        exit 0
    fi
    sleep 0.5
done
echo "start_local_slurm.sh: node $host not idle after ${wait_s}s (state: ${node_state:-none})" >&2
scontrol show node "$host" >&2 || true
tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
exit 1
