# tests/engines/lib.sh — shared by the engine scripts (sourced, bash).
#
# Each engine script makes a private temp dir, points its engine at a
# wrapper around ./hull that records every invocation, runs scenarios with
# `scenario NAME FUNCTION`, and at the end checks that nothing is left
# behind. A scenario passes when its function returns 0 AND hull was called
# for it (the wrapper log grew with a create, exec, ... line), fails on any
# other status, and is skipped when it calls `skip REASON`. Known failures
# are marked with `known_failure REASON` before the scenario runs.

# Where the engine scripts live, for sourcing after a script changed directory.
ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

set -u

ENGINE=${ENGINE:-engine}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HULL=${HULL:-$TOP/hull}
HELPER=$TOP/tests/helper/hull-test-helper
TMP=$(mktemp -d "/tmp/hull-$ENGINE.XXXXXX")
# Mapped users (uid 100000 in the userns scenarios) must reach the bundles.
chmod 0755 "$TMP"
# Until the script sets its own trap (which calls finish), an early exit
# only has the empty temp dir to remove.
trap 'rm -rf "$TMP"' EXIT
WRAPPER=$TMP/bin/hull
CALLS=$TMP/hull-calls.log
PREFIX=hulleng$$
passed=() failed=() skipped=() known=()
cleanup_steps=()
known_reason=

log() { printf '[%s] %s\n' "$ENGINE" "$*" >&2; }

# The wrapper appends one line per call (pid and argv joined by spaces),
# then execs hull with argv untouched.
make_wrapper() {
	mkdir -p "$TMP/bin"
	cat >"$WRAPPER" <<WRAP
#!/bin/sh
printf '%s %s\n' "\$\$" "\$*" >>'$CALLS'
exec '$HULL' "\$@"
WRAP
	# ENGINES_TRACE=1: run hull as a child instead and log its exit status
	# and stderr too (hull is then not the engine's direct child).
	if [[ -n ${ENGINES_TRACE:-} ]]; then
		cat >"$WRAPPER" <<WRAP
#!/bin/bash
printf '%s %s\n' "\$\$" "\$*" >>'$CALLS'
'$HULL' "\$@" 2> >(tee -a '$CALLS.stderr' >&2)
rc=\$?
printf '%s exit %s\n' "\$\$" "\$rc" >>'$CALLS.status'
exit \$rc
WRAP
	fi
	chmod 0755 "$WRAPPER"
	: >"$CALLS"
}

make_rootfs() {
	local dir=$TMP/rootfs
	sh "$TOP/tests/make-rootfs.sh" "$dir" "$HELPER" >/dev/null
	printf '%s\n' "$dir"
}

# Runs at exit in reverse order of registration.
at_exit() { cleanup_steps+=("$1"); }
run_cleanup() {
	local i
	for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do
		eval "${cleanup_steps[i]}" || log "cleanup step failed: ${cleanup_steps[i]}"
	done
	cleanup_steps=()
}

# Starts a daemon in the background with its output in $TMP/NAME.log and
# records its pid in $TMP/NAME.bgpid; stop_daemon NAME sends TERM, waits up to
# 20s, then KILL.
start_daemon() {
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	echo $! >"$TMP/$name.bgpid"
	at_exit "stop_daemon $name"
}
stop_daemon() {
	local name=$1 pid i
	pid=$(cat "$TMP/$name.bgpid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

wait_for() { # wait_for SECONDS COMMAND... — polls every 0.1s
	local n=$(($1 * 10))
	shift
	while ((n-- > 0)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The engines put their containers under a parent cgroup (podman's
# libpod_parent, docker's docker, containerd's namespace) that the runtime
# creates and nobody removes (podman also puts conmon in NAME/conmon). If
# NAME does not exist yet in any hierarchy, remove it and what is below it
# at the end, after the daemons stopped; rmdir refuses a cgroup that still
# holds a process, so nothing alive is touched.
own_parent_cgroup() {
	local name=$1
	if ! compgen -G "/sys/fs/cgroup/*/$name" >/dev/null; then
		at_exit "remove_empty_cgroups $name"
	fi
}
remove_empty_cgroups() {
	local dir
	for dir in /sys/fs/cgroup/*/"$1"; do
		[[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

skip() {
	skip_reason=$1
	return 77
}
known_failure() { known_reason=$1; }

calls_count() { wc -l <"$CALLS"; }
# hull_called SINCE VERB — did the wrapper see VERB after line SINCE?
hull_called() {
	tail -n +"$(($1 + 1))" "$CALLS" | grep -Eq "(^| )$2( |$)"
}

# scenario NAME FUNCTION [VERB...] — runs FUNCTION, requires each VERB
# (default: create) among hull's calls made while it ran; "-" requires none
# (a check on what an earlier scenario left).
scenario() {
	local name=$1 fn=$2 before status verb out
	shift 2
	local verbs=("$@")
	# ONLY="a b": run just those scenarios (for chasing one failure).
	if [[ -n ${ONLY:-} && " $ONLY " != *" $name "* ]]; then
		return 0
	fi
	((${#verbs[@]})) || verbs=(create)
	before=$(calls_count)
	skip_reason=
	out=$TMP/scenario-$name.out
	"$fn" >"$out" 2>&1
	status=$?
	if ((status == 0)); then
		for verb in "${verbs[@]}"; do
			[[ $verb == - ]] && continue
			if ! hull_called "$before" "$verb"; then
				echo "hull was not called with '$verb' (another runtime ran?)" >>"$out"
				status=1
			fi
		done
	fi
	if ((status == 77)); then
		skipped+=("$name ($skip_reason)")
		log "SKIP $name: $skip_reason"
	elif [[ -n $known_reason ]]; then
		if ((status == 0)); then
			failed+=("$name (marked known failure but passed: $known_reason)")
			log "XPASS $name"
		else
			known+=("$name ($known_reason)")
			log "KNOWN FAILURE $name: $known_reason"
		fi
	elif ((status == 0)); then
		passed+=("$name")
		log "PASS $name"
	else
		failed+=("$name")
		log "FAIL $name"
		sed 's/^/    /' "$out" >&2
	fi
	known_reason=
}

# expect_eq WHAT WANT GOT
expect_eq() {
	if [[ "$2" != "$3" ]]; then
		echo "$1: want '$2', got '$3'"
		return 1
	fi
}
expect_match() { # expect_match WHAT REGEX TEXT
	if ! [[ "$3" =~ $2 ]]; then
		echo "$1: want /$2/, got '$3'"
		return 1
	fi
}

# The container ids hull was asked to create, from the wrapper's log.
created_ids() {
	awk '{ for (i = 2; i <= NF; i++) if ($i == "create") { print $NF; break } }' "$CALLS" | sort -u
}

# Nothing of ours may remain: mounts under $TMP, processes that mention
# $TMP, cgroups or hull state named after a container hull created.
check_leftovers() {
	local bad=0 id pids
	if grep -F " $TMP" /proc/self/mountinfo >/dev/null; then
		log "leftover mounts:"
		grep -F " $TMP" /proc/self/mountinfo | awk '{print "    " $5}' >&2
		bad=1
		# Reported; now undo them so the host is clean anyway.
		grep -F " $TMP" /proc/self/mountinfo | awk '{print $5}' | sort -r |
			while read -r m; do umount -l "$m"; done
	fi
	pids=$(grep -lF "$TMP" /proc/[0-9]*/cmdline 2>/dev/null | grep -v "^/proc/$$/" | cut -d/ -f3 | grep -vx "$$" || true)
	for p in $pids; do
		[[ -d /proc/$p ]] || continue
		log "leftover process $p: $(tr '\0' ' ' </proc/"$p"/cmdline)"
		bad=1
		# Ours (its command line names our temp dir), e.g. a shim whose
		# container failed to start: reported, now ended.
		kill -KILL "$p" 2>/dev/null
	done
	for id in $(created_ids); do
		[[ ${#id} -ge 6 ]] || continue
		if [[ -e /run/hull/$id ]]; then
			log "leftover hull state /run/hull/$id"
			bad=1
		fi
		if find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null | grep -q .; then
			log "leftover cgroups for $id:"
			find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" | sed 's/^/    /' >&2
			bad=1
		fi
	done
	return $bad
}

finish() {
	local status=0 s
	run_cleanup
	sleep 0.5
	if ! check_leftovers; then
		failed+=("leftovers")
	fi
	echo "== $ENGINE: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped, ${#known[@]} known failures" >&2
	for s in "${skipped[@]}"; do echo "   skipped: $s" >&2; done
	for s in "${known[@]}"; do echo "   known failure: $s" >&2; done
	for s in "${failed[@]}"; do echo "   FAILED: $s" >&2; status=1; done
	if ((status == 0)) && [[ -z ${KEEP_TMP:-} ]]; then
		rm -rf "$TMP"
	else
		echo "   logs kept in $TMP" >&2
	fi
	return $status
}

need_root() {
	if [[ $(id -u) != 0 ]]; then
		echo "$0: must run as root" >&2
		exit 1
	fi
}

need_tools() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			echo "$0: $t not found (make deps installs it)" >&2
			exit 1
		fi
	done
}

# The engine starts watching the container's OOM events only after start
# returns; give it a second before the allocation begins.
memhog_late='sleep 1; exec hull-test-helper memhog 256'
mem_limit_cmd='cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
