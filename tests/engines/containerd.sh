#!/usr/bin/env bash
# tests/engines/containerd.sh — containerd's runc v2 shim drives hull
# (ctr run --runc-binary points at a wrapper that logs each call and execs
# ./hull). containerd runs with its own config: root, state and sockets under
# a temp dir, the CRI plugin off, no CNI. The image is an OCI archive built
# here by hand from the test rootfs and loaded with `ctr images import`.
ENGINE=containerd
source "$(dirname "$0")/lib.sh"
need_root
need_tools containerd ctr containerd-shim-runc-v2 script sha256sum gzip

make_wrapper
SOCK=$TMP/containerd.sock
NS=hulltest
IMG=docker.io/library/hull-busybox:latest
IMG_USER=docker.io/library/hull-busybox:user
C=(ctr -a "$SOCK" -n "$NS")
RUN=("${C[@]}" run --snapshotter native --runtime io.containerd.runc.v2 --runc-binary "$WRAPPER"
	--runc-root "$TMP/runc-root" --fifo-dir "$TMP/fifo")
trap 'finish; exit $?' EXIT
own_parent_cgroup $NS

# containerd 1.6 puts shim sockets in /run/containerd/s whatever its config
# says, and the shim's defaults land in /run/containerd; remove those
# directories at the end if we made them and they are empty again.
for d in /run/containerd /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd/runc/$NS; do
	[[ -e $d ]] || at_exit "rmdir $d 2>/dev/null || true"
done

cat >"$TMP/config.toml" <<CONF
version = 2
root = "$TMP/root"
state = "$TMP/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$TMP/debug.sock"
CONF
# The shim runs "runc" from PATH when a container carries no runc options
# (ctr 1.6 drops --runc-binary with --uidmap): make that hull too.
mkdir -p "$TMP/path"
ln -s "$WRAPPER" "$TMP/path/runc"
start_daemon containerd env PATH="$TMP/path:$PATH" containerd --config "$TMP/config.toml"
at_exit "containerd_reset"
if ! wait_for 20 "${C[@]}" version; then
	log "containerd did not come up:"
	cat "$TMP/containerd.log" >&2
	exit 1
fi

containerd_reset() {
	local id
	for id in $("${C[@]}" tasks ls -q 2>/dev/null); do
		"${C[@]}" tasks kill -s KILL "$id" >/dev/null 2>&1
		sleep 0.2
		"${C[@]}" tasks delete -f "$id" >/dev/null 2>&1
	done
	for id in $("${C[@]}" containers ls -q 2>/dev/null); do
		"${C[@]}" containers delete "$id" >/dev/null 2>&1
	done
}

# blob FILE — stores FILE under the layout's blobs, prints "DIGEST SIZE".
blob() {
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "$layout/blobs/sha256/$d"
	echo "sha256:$d $(stat -c %s "$1")"
}

# manifest NAME USER WORKDIR — a config and manifest for the shared layer;
# prints the index entry.
manifest() {
	local name=$1 user=$2 workdir=$3 cfg man tag=${1##*:}
	cat >"$TMP/config-$tag.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"User":"$user","WorkingDir":"$workdir"},"rootfs":{"type":"layers","diff_ids":["$diff_id"]}}
JSON
	read -r cfg cfg_size < <(blob "$TMP/config-$tag.json")
	cat >"$TMP/manifest-$tag.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$cfg","size":$cfg_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"$layer","size":$layer_size}]}
JSON
	read -r man man_size < <(blob "$TMP/manifest-$tag.json")
	printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}' \
		"$man" "$man_size" "$name" "$tag"
}

make_oci_archive() {
	local rootfs=$1 a b
	layout=$TMP/oci
	mkdir -p "$layout/blobs/sha256"
	tar -C "$rootfs" -c . >"$TMP/layer.tar"
	diff_id=sha256:$(sha256sum "$TMP/layer.tar" | cut -d' ' -f1)
	gzip -n -c "$TMP/layer.tar" >"$TMP/layer.tar.gz"
	read -r layer layer_size < <(blob "$TMP/layer.tar.gz")
	a=$(manifest "$IMG" "" /)
	b=$(manifest "$IMG_USER" 1000 /tmp)
	echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	echo "{\"schemaVersion\":2,\"manifests\":[$a,$b]}" >"$layout/index.json"
	tar -C "$layout" -c . >"$TMP/hull-busybox.oci.tar"
}

make_oci_archive "$(make_rootfs)"
"${C[@]}" images import --snapshotter native "$TMP/hull-busybox.oci.tar" >/dev/null || { log "ctr images import failed"; exit 1; }
at_exit "${C[*]} images rm $IMG $IMG_USER >/dev/null 2>&1"

n=0
cid() { n=$((n + 1)); echo "${PREFIX}-$1-$n"; }

t_run() {
	local out
	out=$("${RUN[@]}" --rm "$IMG" "$(cid run)" echo hello) || return 1
	expect_eq output hello "$out"
}

t_exit_code() {
	"${RUN[@]}" --rm "$IMG" "$(cid exit)" sh -c 'exit 3'
	expect_eq status 3 $?
}

t_env_workdir_user() {
	local out
	# ctr 1.6 has no --user: the second image sets User 1000 and WorkingDir.
	out=$("${RUN[@]}" --rm --env FOO=bar "$IMG_USER" "$(cid user)" sh -c 'echo "$FOO $(pwd) $(id -u)"') || return 1
	expect_eq output "bar /tmp 1000" "$out" || return 1
	out=$("${RUN[@]}" --rm --cwd /etc "$IMG" "$(cid cwd)" pwd) || return 1
	expect_eq cwd /etc "$out"
}

t_tty() {
	local out
	out=$(script -qec "${RUN[*]} --rm -t $IMG $(cid tty) hull-test-helper isatty 0" /dev/null </dev/null) || return 1
	echo "$out"
	expect_match output 'yes' "$out"
}

t_exec() {
	local id out rc
	id=$(cid exec)
	"${RUN[@]}" -d "$IMG" "$id" sleep 100 >/dev/null || return 1
	out=$("${C[@]}" tasks exec --exec-id e1 "$id" sh -c 'echo "in $(cat /proc/1/comm)"')
	rc=$?
	kill_and_delete "$id"
	((rc == 0)) || return 1
	expect_eq output "in sleep" "$out"
}

t_exec_tty() {
	local id out rc
	id=$(cid exectty)
	"${RUN[@]}" -d "$IMG" "$id" sleep 100 >/dev/null || return 1
	out=$(script -qec "${C[*]} tasks exec -t --exec-id e2 $id hull-test-helper isatty 0" /dev/null </dev/null)
	rc=$?
	kill_and_delete "$id"
	echo "$out"
	((rc == 0)) && expect_match output yes "$out"
}

# ctr tasks ps asks the shim, which asks the runtime (ps --format json).
t_ps() {
	local id out rc pid
	id=$(cid ps)
	"${RUN[@]}" -d "$IMG" "$id" sleep 100 >/dev/null || return 1
	out=$("${C[@]}" tasks ps "$id")
	rc=$?
	pid=$("${C[@]}" tasks ls | awk -v id="$id" '$1 == id { print $2 }')
	kill_and_delete "$id"
	echo "$out"
	((rc == 0)) && expect_match output "(^|[^0-9])$pid([^0-9]|$)" "$out"
}

kill_and_delete() {
	"${C[@]}" tasks kill -s KILL "$1" >/dev/null 2>&1
	wait_for 10 sh -c "${C[*]} tasks ls | grep '^$1 ' | grep -q STOPPED"
	"${C[@]}" tasks delete "$1" >/dev/null 2>&1
	"${C[@]}" containers delete "$1" >/dev/null 2>&1
}

t_stop_sigterm() {
	local id out=$TMP/term.out pid rc
	id=$(cid term)
	"${RUN[@]}" --rm "$IMG" "$id" hull-test-helper signal-wait >"$out" 2>&1 &
	pid=$!
	wait_for 10 grep -q ready "$out"
	"${C[@]}" tasks kill "$id" # SIGTERM by default
	wait "$pid"
	rc=$?
	cat "$out"
	expect_eq exit 0 "$rc" && expect_match output SIGTERM "$(cat "$out")"
}

# What docker stop does: SIGTERM, then SIGKILL when the process ignores it
# (sleep as pid 1 has no handler, so the kernel drops SIGTERM).
t_stop_sigkill() {
	local id pid rc
	id=$(cid kill)
	"${RUN[@]}" --rm "$IMG" "$id" sleep 100 &
	pid=$!
	wait_for 10 sh -c "${C[*]} tasks ls | grep '^$id ' | grep -q RUNNING"
	"${C[@]}" tasks kill "$id"
	sleep 1
	kill -0 "$pid" 2>/dev/null || { echo "sleep ended on SIGTERM"; return 1; }
	"${C[@]}" tasks kill -s KILL "$id"
	wait "$pid"
	rc=$?
	expect_eq exit 137 "$rc"
}

t_pause() {
	local id st1 st2
	id=$(cid pause)
	"${RUN[@]}" -d "$IMG" "$id" sleep 100 >/dev/null || return 1
	"${C[@]}" tasks pause "$id"
	st1=$("${C[@]}" tasks ls | awk -v id="$id" '$1 == id { print $3 }')
	"${C[@]}" tasks resume "$id"
	st2=$("${C[@]}" tasks ls | awk -v id="$id" '$1 == id { print $3 }')
	kill_and_delete "$id"
	expect_eq paused PAUSED "$st1" && expect_eq running RUNNING "$st2"
}


# A namespace joined by path: a network namespace held by a sleep of ours.
t_join_netns() {
	local holder want out
	unshare --net sleep 100 &
	holder=$!
	wait_for 5 sh -c "[ \"\$(readlink /proc/$holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
	want=$(readlink /proc/$holder/ns/net)
	out=$("${RUN[@]}" --rm --with-ns "network:/proc/$holder/ns/net" "$IMG" "$(cid netns)" readlink /proc/self/ns/net)
	kill "$holder"
	wait "$holder" 2>/dev/null
	expect_eq netns "$want" "$out"
}

t_memory_limit() {
	local out
	# containerd's default spec mounts no /sys/fs/cgroup (only its CRI
	# plugin adds one), so ask for it.
	out=$("${RUN[@]}" --rm --memory-limit 67108864 \
		--mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec \
		"$IMG" "$(cid mem)" sh -c "$mem_limit_cmd") || return 1
	expect_eq limit 67108864 "$out"
}

t_oom() {
	local id rc evpid
	id=$(cid oom)
	"${C[@]}" events >"$TMP/events.log" 2>&1 &
	evpid=$!
	sleep 0.3
	"${RUN[@]}" --rm --memory-limit 33554432 "$IMG" "$id" sh -c "$memhog_late"
	rc=$?
	sleep 0.5
	kill "$evpid"
	wait "$evpid" 2>/dev/null
	grep -E '/tasks/(oom|exit)' "$TMP/events.log"
	expect_eq exit 137 "$rc" || return 1
	grep -q '/tasks/oom' "$TMP/events.log" || { echo "no /tasks/oom event"; return 1; }
}

t_update() {
	skip "ctr 1.6 has no task update command"
}

t_read_only() {
	local out
	out=$("${RUN[@]}" --rm --read-only "$IMG" "$(cid ro)" sh -c 'touch /etc/x 2>&1; echo rc=$?')
	expect_match output 'Read-only file system' "$out" && expect_match output 'rc=1' "$out"
}

t_hostname() {
	skip "ctr 1.6 run has no --hostname"
}

t_userns() {
	local out
	out=$("${RUN[@]}" --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" "$(cid userns)" cat /proc/self/uid_map) || return 1
	expect_match uid_map '^ *0 +100000 +65536$' "$out"
}

scenario run t_run
scenario exit-code t_exit_code
scenario env-workdir-user t_env_workdir_user
scenario tty t_tty
scenario exec t_exec create exec
scenario exec-tty t_exec_tty create exec
scenario ps t_ps create ps
scenario stop-sigterm t_stop_sigterm create kill
scenario stop-sigkill t_stop_sigkill create kill
scenario pause t_pause create pause resume
scenario join-netns t_join_netns
scenario memory-limit t_memory_limit
scenario oom t_oom
scenario update t_update
scenario read-only t_read_only
scenario hostname t_hostname
scenario userns t_userns
