# docker-cli.sh — scenarios that read the same for every engine with
# docker's command line (docker and podman), sourced by docker.sh and
# podman.sh. They use CLI (the engine command with its private sockets and
# directories), RUN ("${CLI[@]}" run --network none), IMG and lib.sh.

t_run() {
	local out
	out=$("${RUN[@]}" --rm "$IMG" echo hello) || return 1
	expect_eq output hello "$out"
}

t_exit_code() {
	"${RUN[@]}" --rm "$IMG" sh -c 'exit 3'
	expect_eq status 3 $?
}

t_env_workdir_user() {
	local out
	out=$("${RUN[@]}" --rm -e FOO=bar -w /tmp -u 1000 "$IMG" sh -c 'echo "$FOO $(pwd) $(id -u)"') || return 1
	expect_eq output "bar /tmp 1000" "$out"
}

t_tty() {
	local out
	out=$(script -qec "${RUN[*]} --rm -t $IMG hull-test-helper isatty 0" /dev/null </dev/null) || return 1
	echo "$out"
	expect_match output 'yes' "$out"
}

t_pids_cpu() {
	local out
	out=$("${RUN[@]}" --rm --pids-limit 50 --cpu-quota 50000 --cpu-period 100000 "$IMG" \
		sh -c 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null ||
			cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max') || return 1
	expect_eq limits "$(printf '50\n50000')" "$out"
}

# All capabilities, every host device, no seccomp filter.
t_privileged() {
	local out
	out=$("${RUN[@]}" --rm --privileged "$IMG" sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; test -e /dev/loop-control && echo loop-control') || return 1
	echo "$out"
	# Every capability the engine knows and the host's bounding set has
	# (this one lacks CAP_SYS_RESOURCE): require the first 24, SYS_ADMIN
	# among them.
	local cap
	cap=$(awk '/^CapEff:/ { print $2 }' <<<"$out")
	(((0x$cap & 0xffffff) == 0xffffff)) || { echo "CapEff $cap lacks some of caps 0-23"; return 1; }
	expect_match seccomp 'Seccomp:[[:space:]]+0' "$out" &&
		expect_match devices loop-control "$out"
}

t_caps_nnp() {
	local out
	out=$("${RUN[@]}" --rm --cap-drop ALL --cap-add NET_RAW --security-opt no-new-privileges "$IMG" \
		sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status') || return 1
	echo "$out"
	expect_match caps 'CapEff:[[:space:]]+0000000000002000' "$out" &&
		expect_match nnp 'NoNewPrivs:[[:space:]]+1' "$out" &&
		expect_match seccomp 'Seccomp:[[:space:]]+2' "$out"
}

# The host's pid, ipc, uts and network namespaces, joined (by omission).
t_host_namespaces() {
	local out want ns
	out=$("${RUN_HOSTNET[@]}" --rm --pid host --ipc host --uts host "$IMG" \
		sh -c 'for ns in pid ipc uts net; do readlink /proc/self/ns/$ns; done') || return 1
	want=$(for ns in pid ipc uts net; do readlink /proc/self/ns/$ns; done)
	expect_eq namespaces "$want" "$out"
}

t_groups() {
	local out
	out=$("${RUN[@]}" --rm -u 1000:1000 --group-add 10 --group-add 20 "$IMG" id -G) || return 1
	expect_eq groups "1000 10 20" "$out"
}

t_memory_limit() {
	local out
	out=$("${RUN[@]}" --rm -m 64m "$IMG" sh -c "$mem_limit_cmd") || return 1
	expect_eq limit 67108864 "$out"
}

t_read_only() {
	local out
	out=$("${RUN[@]}" --rm --read-only "$IMG" sh -c 'touch /etc/x 2>&1; echo rc=$?')
	expect_match output 'Read-only file system' "$out" && expect_match output 'rc=1' "$out"
}

t_hostname() {
	local out
	out=$("${RUN[@]}" --rm --hostname box1 "$IMG" hostname) || return 1
	expect_eq hostname box1 "$out"
}
