#!/usr/bin/env bash
# tests/engines/docker.sh — dockerd (with the containerd it starts itself)
# drives hull as its default runtime, a wrapper that logs each call and
# execs ./hull. Private data root, exec root, pidfile and socket under a temp
# dir; no bridge, no iptables; vfs storage; the image is imported from the
# test rootfs.
ENGINE=docker
source "$(dirname "$0")/lib.sh"
need_root
need_tools dockerd docker containerd containerd-shim-runc-v2 script

make_wrapper
SOCK=$TMP/docker.sock
IMG=hull-busybox
D=(docker -H "unix://$SOCK")
RUN_HOSTNET=("${D[@]}" run --network host)
RUN=("${D[@]}" run --network none)
CLI=("${D[@]}")
source "$ENGINES_DIR/docker-cli.sh"
trap 'finish; exit $?' EXIT
own_parent_cgroup docker

# The managed containerd's shim sockets go to /run/containerd/s whatever
# the roots say; remove the directories it made if empty at the end.
for d in /run/containerd /run/containerd/s; do
	[[ -e $d ]] || at_exit "rmdir $d 2>/dev/null || true"
done

docker_reset() {
	local ids
	ids=$("${D[@]}" ps -aq 2>/dev/null)
	[[ -z $ids ]] || "${D[@]}" rm -f $ids >/dev/null 2>&1
	"${D[@]}" rmi -f "$IMG" >/dev/null 2>&1
}

# Once a container used --network host, libnetwork keeps the host's netns
# bind-mounted at EXEC_ROOT/netns/default and dockerd leaves it there when
# it stops; unmount it after the daemon is gone.
at_exit "umount $TMP/exec/netns/default 2>/dev/null || true"
echo '{}' >"$TMP/daemon.json"
start_daemon dockerd dockerd --config-file "$TMP/daemon.json" \
	--data-root "$TMP/data" --exec-root "$TMP/exec" --pidfile "$TMP/dockerd.pid" \
	-H "unix://$SOCK" --bridge=none --iptables=false --ip-masq=false \
	--ip-forward=false --userland-proxy=false --storage-driver vfs \
	--add-runtime "hull=$WRAPPER" --default-runtime hull
at_exit "docker_reset"
if ! wait_for 30 "${D[@]}" version; then
	log "dockerd did not come up:"
	tail -20 "$TMP/dockerd.log" >&2
	exit 1
fi

tar -C "$(make_rootfs)" -c . | "${D[@]}" import - "$IMG" >/dev/null || { log "docker import failed"; exit 1; }

t_exec() {
	local name=${PREFIX}-exec out rc
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	out=$("${D[@]}" exec -e X=1 -u 1000 -w /tmp "$name" sh -c 'echo "in $X $(id -u) $(pwd)"')
	rc=$?
	"${D[@]}" rm -f "$name" >/dev/null
	((rc == 0)) || return 1
	expect_eq output "in 1 1000 /tmp" "$out"
}

t_exec_tty() {
	local name=${PREFIX}-exectty out rc
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	out=$(script -qec "${D[*]} exec -t $name hull-test-helper isatty 0" /dev/null </dev/null)
	rc=$?
	"${D[@]}" rm -f "$name" >/dev/null
	echo "$out"
	((rc == 0)) && expect_match output yes "$out"
}

# docker top asks the runtime for the pids (ps --format json).
t_top() {
	local name=${PREFIX}-top out rc
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	out=$("${D[@]}" top "$name")
	rc=$?
	"${D[@]}" rm -f "$name" >/dev/null
	echo "$out"
	((rc == 0)) && expect_match output 'sleep 100' "$out"
}

t_stop_sigterm() {
	local name=${PREFIX}-term logs code
	"${RUN[@]}" -d --name "$name" "$IMG" hull-test-helper signal-wait >/dev/null || return 1
	wait_for 10 sh -c "${D[*]} logs $name | grep -q ready"
	"${D[@]}" stop -t 10 "$name" >/dev/null
	logs=$("${D[@]}" logs "$name")
	code=$("${D[@]}" inspect -f '{{.State.ExitCode}}' "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_match logs SIGTERM "$logs" && expect_eq exit 0 "$code"
}

t_kill_signal() {
	local name=${PREFIX}-usr1 logs
	"${RUN[@]}" -d --name "$name" "$IMG" hull-test-helper signal-wait >/dev/null || return 1
	wait_for 10 sh -c "${D[*]} logs $name | grep -q ready"
	"${D[@]}" kill -s USR1 "$name" >/dev/null
	wait_for 10 sh -c "${D[*]} logs $name | grep -q SIGUSR1"
	logs=$("${D[@]}" logs "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_match logs SIGUSR1 "$logs"
}

t_stop_sigkill() {
	local name=${PREFIX}-kill code start
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	start=$SECONDS
	"${D[@]}" stop -t 1 "$name" >/dev/null
	code=$("${D[@]}" inspect -f '{{.State.ExitCode}}' "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_eq exit 137 "$code" && ((SECONDS - start < 15))
}

t_pause() {
	local name=${PREFIX}-pause st1 st2
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	"${D[@]}" pause "$name" >/dev/null
	st1=$("${D[@]}" inspect -f '{{.State.Status}}' "$name")
	"${D[@]}" unpause "$name" >/dev/null
	st2=$("${D[@]}" inspect -f '{{.State.Status}}' "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_eq paused paused "$st1" && expect_eq running running "$st2"
}


t_mounts_devices() {
	local out
	mkdir -p "$TMP/vol" && echo from-host >"$TMP/vol/f"
	out=$("${RUN[@]}" --rm -v "$TMP/vol:/data:ro" --tmpfs /scratch --device /dev/null:/dev/xnull \
		--ulimit nofile=100:200 --sysctl net.ipv4.ip_forward=1 --shm-size 8m "$IMG" sh -c '
		cat /data/f; touch /data/x 2>/dev/null || echo data-ro
		touch /scratch/y && grep " /scratch " /proc/self/mounts | cut -d" " -f3
		echo hi >/dev/xnull && echo xnull-ok
		echo nofile=$(ulimit -n):$(ulimit -Hn)
		cat /proc/sys/net/ipv4/ip_forward
		df -k /dev/shm | tail -1 | awk "{print \"shm=\" \$2}"') || return 1
	echo "$out"
	expect_eq output "$(printf 'from-host\ndata-ro\ntmpfs\nxnull-ok\nnofile=100:200\n1\nshm=8192')" "$out"
}

t_restart() {
	local name=${PREFIX}-restart p1 p2
	"${RUN[@]}" -d --name "$name" "$IMG" sleep 100 >/dev/null || return 1
	p1=$("${D[@]}" inspect -f '{{.State.Pid}}' "$name")
	"${D[@]}" restart -t 0 "$name" >/dev/null
	p2=$("${D[@]}" inspect -f '{{.State.Pid}} {{.State.Status}}' "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	echo "$p1 -> $p2"
	expect_match state '^[0-9]+ running$' "$p2" && [[ ${p2% *} != "$p1" ]]
}

# --init puts docker-init (tini) in as pid 1, bind-mounted from the host.
t_init() {
	local out
	out=$("${RUN[@]}" --rm --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$') || return 1
	echo "$out"
	expect_match pid1 '^/sbin/docker-init -- sh' "$out"
}

t_cgroupns() {
	local out
	out=$("${RUN[@]}" --rm --cgroupns private "$IMG" cat /proc/self/cgroup) || return 1
	echo "$out"
	grep -qx '[0-9]*:memory:/' <<<"$out"
}

t_oom() {
	local name=${PREFIX}-oom code oom
	"${RUN[@]}" --name "$name" -m 32m --memory-swap 32m "$IMG" sh -c "$memhog_late"
	code=$?
	oom=$("${D[@]}" inspect -f '{{.State.OOMKilled}}' "$name")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_eq exit 137 "$code" && expect_eq OOMKilled true "$oom"
}

t_update() {
	local name=${PREFIX}-upd out
	"${RUN[@]}" -d --name "$name" -m 64m --memory-swap 64m "$IMG" sleep 100 >/dev/null || return 1
	"${D[@]}" update --memory 128m --memory-swap 128m "$name" >/dev/null
	out=$("${D[@]}" exec "$name" sh -c "$mem_limit_cmd")
	"${D[@]}" rm -f "$name" >/dev/null
	expect_eq limit 134217728 "$out"
}

t_userns() {
	skip "docker maps users only with a daemon-wide --userns-remap, which adds a dockremap user to the host's /etc/passwd and /etc/subuid"
}

scenario run t_run
scenario exit-code t_exit_code
scenario env-workdir-user t_env_workdir_user
scenario tty t_tty
scenario exec t_exec create exec
scenario exec-tty t_exec_tty create exec
scenario top t_top create ps
scenario stop-sigterm t_stop_sigterm create kill
scenario kill-signal t_kill_signal create kill
scenario pids-cpu-limits t_pids_cpu
scenario stop-sigkill t_stop_sigkill create kill
scenario pause t_pause create pause resume
scenario privileged t_privileged
scenario caps-nnp t_caps_nnp
scenario mounts-devices t_mounts_devices
scenario restart t_restart create start
scenario host-namespaces t_host_namespaces
scenario groups t_groups
scenario init t_init
scenario cgroupns t_cgroupns
scenario memory-limit t_memory_limit
scenario oom t_oom
scenario update t_update create update
scenario read-only t_read_only
scenario hostname t_hostname
scenario userns t_userns
