#!/usr/bin/env bash
# bench/image-bench.sh — what hull's images cost beside umoci and podman, on
# the same machine, the same image, in one run.  `make bench` runs it after
# the others; run it as root.  Alone: `bash bench/image-bench.sh`.
#
# The image is made here, from nothing outside the machine: five gzip layers
# (the test rootfs, then up to BENCH_LAYER_MB of the host's /usr/lib,
# /usr/share, /usr/include and /usr/sbin each, ~100 MB in all), written as
# an OCI layout (tar, gzip, sha256sum and a few JSON lines) and pushed to a
# docker-registry started on 127.0.0.1 on a free port.  Its Cmd reads every
# file under /usr/lib and then writes /done.
#
# Measured (medians; the tools interleaved in rotating order; in the cold
# part a `sync` before each timed command, so that none pays for another's
# writeback; the page cache is left as it is: the layout's and the
# registry's blobs are cached after the first read), the wall time and the
# CPU time (user + system of the command and the children it reaped):
#   unpack, cold     BENCH_N times each, every time into fresh directories:
#       hull    `hull image import LAYOUT` + `hull image mount` (the first
#               mount unpacks every layer into the store)
#       umoci   `umoci unpack --image LAYOUT:1 BUNDLE`
#       target: hull <= 0.5x umoci
#   pull, cold       BENCH_N times each, from the registry, fresh stores:
#       hull    `hull image pull` + `hull image mount`
#       podman  `podman pull` into a fresh --root (its layers unpacked too)
#   bundle assembly  20*BENCH_N times: `hull image mount` of the cached
#       image (an overlayfs over the unpacked layers + config.json), and the
#       `hull image umount` after it; target: mount <= 5 ms.  Beside them,
#       the floor: what starting `hull --version` and /bin/true costs here
#   run to 1st byte  4*BENCH_N times each: `hull run --image IMAGE --rm --
#       /bin/echo x` against `podman run --rm --network none IMAGE /bin/echo
#       x` (podman's default runtime, crun), both of the cached image; the
#       time from the spawn to the first byte of output, and to the exit
#   BENCH_MANY (100) containers of one image: the disk they use (du of the
#       store or layout plus the bundles, overlayfs rootfs not crossed) and
#       the page cache they use when each reads the same files (the image's
#       Cmd: every file under /usr/lib), against as many bundles unpacked by
#       umoci.  Both kinds run under hull, from the same config.json (only
#       root.path differs), in two child memory cgroups of this bench's own.
#       Before the containers start, the pages of every file of the layers
#       and of the bundles are written back and dropped, those files only
#       (bench/page-cache evict: fdatasync + POSIX_FADV_DONTNEED; the host's
#       cache is never dropped as a whole).  Page cache is then
#         memcg     the growth of the cgroup's file pages (v1 total_cache,
#                   v2 file): what the containers' reads were charged
#         resident  the bytes of the layers' (bundles') files in the page
#                   cache afterwards (mincore): what the image's files hold
#       umoci unpack x100 would take ~10 minutes here (~6 s each, 13 GB
#       written), so BENCH_BUNDLES (5) bundles are real (those the cold
#       part unpacked, more when BENCH_BUNDLES > BENCH_N; their containers
#       run and measured) and their disk and cache are scaled to BENCH_MANY:
#       every unpacked bundle is a private copy, so the cost is linear (each
#       bundle's figures are printed; BENCH_BUNDLES=100 measures them all).
#
# Everything happens in a private mount namespace: the cgroup2 mount at
# /sys/fs/cgroup/unified is unmounted there (crun 1.8, podman's runtime,
# refuses hybrid hierarchies) and an empty directory of the bench is mounted
# over /var/lib (podman 4.3 writes /var/lib/containers/cache even with
# --root), so nothing of the host's is written but the bench's own cgroups,
# which are removed.  At exit the registry (by its PID), the containers, the
# mounts, the cgroups and the work directory are gone.
#
# Environment:
#   BENCH_N          repetitions of the cold unpacks and pulls (default 5);
#                    20x that many mounts, 4x that many runs
#   BENCH_MANY       containers of one image for disk and cache (default 100)
#   BENCH_BUNDLES    umoci bundles really made and run for that (default 5)
#   BENCH_LAYER_MB   cap of each host-file layer (default 25)
#   BENCH_TIMEOUT    seconds before one command is killed (default 300)
#   BENCH_DIR        where the work directory goes (default /var/tmp: on
#                    disk, where /tmp may be a tmpfs)
#   BENCH_ROOTFS     the first layer (default tests/rootfs)
#   HULL UMOCI PODMAN REGISTRY  the binaries (default ./hull, umoci, podman,
#                    /usr/bin/docker-registry)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_N=${BENCH_N:-5}
export BENCH_MANY=${BENCH_MANY:-100}
export BENCH_BUNDLES=${BENCH_BUNDLES:-5}
export BENCH_LAYER_MB=${BENCH_LAYER_MB:-25}
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
export BENCH_DIR=${BENCH_DIR:-/var/tmp}
export BENCH_ROOTFS=${BENCH_ROOTFS:-$repo/tests/rootfs}
export HULL=${HULL:-$repo/hull}
export UMOCI=${UMOCI:-umoci}
export PODMAN=${PODMAN:-podman}
export REGISTRY=${REGISTRY:-/usr/bin/docker-registry}

REF=localhost/bench:1          # the layout's image, imported
die() { echo "image-bench: $*" >&2; exit 1; }
say() { echo "image-bench: [${SECONDS}s] $*" >&2; }

# ---------------------------------------------------------------- outer part

outer() {
	[[ $(id -u) == 0 ]] || die "must run as root (mounts, cgroups, containers)"
	local v
	for v in BENCH_N BENCH_MANY BENCH_BUNDLES BENCH_LAYER_MB BENCH_TIMEOUT; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not \`${!v}'"
	done
	((BENCH_BUNDLES <= BENCH_MANY)) || die "BENCH_BUNDLES ($BENCH_BUNDLES) must not exceed BENCH_MANY ($BENCH_MANY)"
	[[ -x $BENCH_ROOTFS/bin/busybox ]] ||
		die "no rootfs at \`$BENCH_ROOTFS' (run \`make tests/rootfs/.done' or set BENCH_ROOTFS)"
	[[ -x $HULL ]] || die "no hull at \`$HULL' (run make)"
	local tool
	for tool in "$UMOCI:umoci" "$PODMAN:podman" "$REGISTRY:docker-registry" conmon:conmon \
	            crun:crun cc:build-essential unshare:util-linux ss:iproute2 \
	            tar:tar gzip:gzip sha256sum:coreutils; do
		command -v "${tool%%:*}" >/dev/null ||
			die "${tool%%:*} not found (apt-get install ${tool#*:}, or \`make deps')"
	done
	[[ -d $BENCH_DIR ]] || die "BENCH_DIR \`$BENCH_DIR' is not a directory"

	work=$(mktemp -d "$BENCH_DIR/hull-image-bench.XXXXXX")
	trap 'remove_work "$work"' EXIT
	mkdir -p "$work/bin" "$work/var-lib"
	cc -O2 -Wall -Wextra -Werror -o "$work/bin/measure" "$repo/bench/measure.c"
	cc -O2 -Wall -Wextra -Werror -o "$work/bin/page-cache" "$repo/bench/page-cache.c"

	unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" --inner "$work"
}

# The mounts were all in the private namespace, gone with it; a mount still
# under the work directory here would mean otherwise: leave it all then.
remove_work() {
	local work=$1
	if grep -qF " $work/" /proc/self/mountinfo; then
		echo "image-bench: mounts left under $work; not removing it" >&2
		return
	fi
	rm -rf "$work"
}

# ---------------------------------------------------------------- helpers

declare -A FAILED
TIMED_SYNC=0

# timed NAME COMMAND...: time COMMAND (after a sync when TIMED_SYNC is 1:
# the cold part, so that no tool pays for the writeback of the one before
# it), append the wall time
# in µs to samples/NAME and its CPU time (user + system, its children's
# included: bash's `time' of measure, which reaps it) to samples/NAME.cpu;
# on failure mark NAME FAILED with its first line of output and return 1.
timed() {
	local name=$1 us kib status user sys TIMEFORMAT='%3U %3S'
	shift
	((TIMED_SYNC == 0)) || sync
	: >"$work/out"
	if ! { time "$work/bin/measure" -o "$work/out" -t "$BENCH_TIMEOUT" "$@" >"$work/measured"; } 2>"$work/cpu" ||
	   ! read -r us kib status <"$work/measured"; then
		FAILED[$name]="could not be measured: $(grep -m1 . "$work/cpu" || true)"
		return 1
	fi
	if [[ $status != 0 ]]; then
		local why
		why=$(grep -m1 . "$work/out" | cut -c1-160 || true)
		[[ $status != 124 ]] || why="timed out after ${BENCH_TIMEOUT}s${why:+: $why}"
		FAILED[$name]="exit $status${why:+: $why}"
		return 1
	fi
	echo "$us" >>"$work/samples/$name"
	read -r user sys < <(tail -n1 "$work/cpu")
	awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f\n", (u + s) * 1e6 }' >>"$work/samples/$name.cpu"
}

# timed_first_byte NAME EXPECTED COMMAND...: as timed, into NAME (to the
# exit) and NAME-first (to the first byte of output), which must be EXPECTED.
timed_first_byte() {
	local name=$1 expected=$2 us kib status first
	shift 2
	: >"$work/out"
	if ! read -r us kib status first < <("$work/bin/measure" -f -o "$work/out" -t "$BENCH_TIMEOUT" "$@"); then
		FAILED[$name]="could not be measured"
		return 1
	fi
	if [[ $status != 0 || $(cat "$work/out") != "$expected" ]]; then
		FAILED[$name]="exit $status, output: $(head -c 160 "$work/out" | tr '\n' ' ')"
		return 1
	fi
	echo "$us" >>"$work/samples/$name"
	echo "$first" >>"$work/samples/$name-first"
}

failed() { [[ -n ${FAILED[$1]:-} ]]; }

median() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Unmounts everything at or below DIR (deepest first).
umount_below() {
	local dir=$1 m
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# ---------------------------------------------------------------- the image

# pick DIR BUDGET: the regular files under DIR smaller than 8 MiB, in name
# order, as many as fit in BUDGET bytes, its symlinks, and every directory
# on their way, as names relative to / for tar.
pick() {
	local dir=$1 budget=$2
	find "$dir" -xdev \( -type f -size -8M -printf 'f\t%s\t%P\n' \) -o \
		\( -type l -printf 'l\t0\t%P\n' \) 2>/dev/null | LC_ALL=C sort -t "$(printf '\t')" -k3 |
		awk -F '\t' -v b="$budget" -v top="${dir#/}" '
		$1 == "f" { if (sum + $2 > b) next; sum += $2 }
		{
			p = top "/" $3; n = split(p, c, "/"); d = ""
			for (i = 1; i < n; i++) {
				d = d (i > 1 ? "/" : "") c[i]
				if (!(d in seen)) { seen[d] = 1; print d }
			}
			print p
		}'
}

# put FILE: moves FILE into the layout's blobs; prints "digest size".
put_blob() {
	local file=$1 hex size
	hex=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	mv "$file" "$LAYOUT/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}

# add_layer TAR: gzips TAR into the layout; appends to LAYERS and DIFF_IDS.
LAYERS="" DIFF_IDS="" IMAGE_BYTES=0 IMAGE_FILES=0 N_LAYERS=0
add_layer() {
	local tar=$1 diff_id
	diff_id=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
	IMAGE_BYTES=$((IMAGE_BYTES + $(stat -c %s "$tar")))
	IMAGE_FILES=$((IMAGE_FILES + $(tar -tf "$tar" | wc -l)))
	gzip -n "$tar"
	local blob
	read -r -a blob < <(put_blob "$tar.gz")
	LAYERS+="${LAYERS:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"${blob[0]}\",\"size\":${blob[1]}}"
	DIFF_IDS+="${DIFF_IDS:+,}\"$diff_id\""
	N_LAYERS=$((N_LAYERS + 1))
}

make_image() {
	local stage=$work/stage i=0 dir
	LAYOUT=$work/image/bench
	mkdir -p "$LAYOUT/blobs/sha256" "$stage"
	tar -C "$BENCH_ROOTFS" --numeric-owner -cf "$stage/layer0.tar" .
	add_layer "$stage/layer0.tar"
	for dir in /usr/lib /usr/share /usr/include /usr/sbin; do
		i=$((i + 1))
		pick "$dir" $((BENCH_LAYER_MB * 1024 * 1024)) >"$stage/list$i"
		[[ -s $stage/list$i ]] || { say "no files under $dir: layer $i left out"; continue; }
		tar -C / --no-recursion --numeric-owner -cf "$stage/layer$i.tar" -T "$stage/list$i"
		add_layer "$stage/layer$i.tar"
	done
	local arch config manifest
	arch=$(uname -m)
	case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
	printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh","-c","find /usr/lib -type f -exec cat {} + >/dev/null && touch /done"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$DIFF_IDS" >"$stage/config"
	read -r -a config < <(put_blob "$stage/config")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"${config[0]}" "${config[1]}" "$LAYERS" >"$stage/manifest"
	read -r -a manifest < <(put_blob "$stage/manifest")
	MANIFEST_DIGEST=${manifest[0]}
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}\n' \
		"${manifest[0]}" "${manifest[1]}" >"$LAYOUT/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
	GZ_BYTES=$(du -sb "$LAYOUT/blobs" | cut -f1)
	rm -rf "$stage"
}

# ---------------------------------------------------------------- the registry

# http METHOD PATH CONTENT-TYPE [FILE]: one request to the registry on its
# own connection (bash's /dev/tcp: no curl needed); prints the status and
# the Location header's path ("000 -" when it did not answer).  In a
# subshell: a registry that hangs up mid-body kills only it.
http() (
	local method=$1 path=$2 ctype=$3 file=${4:-} len=0 fd line status= location=
	[[ -z $file ]] || len=$(stat -c %s "$file")
	exec {fd}<>"/dev/tcp/127.0.0.1/$REG_PORT" || { echo "000 -"; exit 0; }
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\nContent-Type: %s\r\nContent-Length: %s\r\n\r\n' \
		"$method" "$path" "$REG_PORT" "$ctype" "$len" >&"$fd"
	[[ -z $file ]] || cat "$file" >&"$fd"
	IFS= read -r line <&"$fd" || { echo "000 -"; exit 0; }
	line=${line%$'\r'}
	status=${line#* }
	status=${status%% *}
	while IFS= read -r line <&"$fd"; do
		line=${line%$'\r'}
		[[ -n $line ]] || break
		case ${line,,} in location:*) location=${line#*: } ;; esac
	done
	[[ $location != http*://* ]] || location=/${location#*://*/}
	echo "$status ${location:--}"
)

start_registry() {
	local try i port
	for ((try = 0; try < 20; try++)); do
		port=$((20000 + RANDOM % 30000))
		[[ -z $(ss -Hltn "sport = :$port") ]] || continue
		cat >"$work/registry.yml" <<-EOF
			version: 0.1
			log:
			  level: warn
			storage:
			  filesystem:
			    rootdirectory: $work/registry
			http:
			  addr: 127.0.0.1:$port
		EOF
		"$REGISTRY" serve "$work/registry.yml" </dev/null >>"$work/registry.log" 2>&1 &
		REG_PID=$! REG_PORT=$port
		for ((i = 0; i < 600; i++)); do
			kill -0 "$REG_PID" 2>/dev/null || break
			# Ours answering, not another process that took the port.
			if [[ $(http GET /v2/ application/json 2>/dev/null) == 200* ]] &&
			   ss -Hltnp "sport = :$port" | grep -q "pid=$REG_PID,"; then
				return 0
			fi
			sleep 0.05
		done
		kill "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
		REG_PID=
	done
	die "docker-registry did not start: $(tail -n 3 "$work/registry.log" 2>/dev/null)"
}

# Pushes the layout's blobs and manifest as 127.0.0.1:PORT/bench:1, the
# same bytes the layout holds.
push_image() {
	local blob status location
	for blob in "$LAYOUT"/blobs/sha256/*; do
		read -r status location < <(http POST /v2/bench/blobs/uploads/ application/json)
		[[ $status == 202 && $location != - ]] || die "registry: POST blob upload: $status"
		[[ $location == *\?* ]] && location+="&" || location+="?"
		read -r status location < <(http PUT "${location}digest=sha256:${blob##*/}" \
			application/octet-stream "$blob")
		[[ $status == 201 ]] || die "registry: PUT blob ${blob##*/}: $status"
	done
	read -r status location < <(http PUT /v2/bench/manifests/1 \
		application/vnd.oci.image.manifest.v1+json "$LAYOUT/blobs/sha256/${MANIFEST_DIGEST#sha256:}")
	[[ $status == 201 ]] || die "registry: PUT manifest: $status"
	REG_REF=127.0.0.1:$REG_PORT/bench:1
}

# ---------------------------------------------------------------- podman

# podman_args ROOT: podman on a private root, runroot and tmpdir under ROOT.
podman_args() {
	local root=$1
	P=("$PODMAN" --root "$root/storage" --runroot "$root/run" --tmpdir "$root/tmp"
	   --storage-driver overlay --cgroup-manager cgroupfs --events-backend none
	   --log-level error)
}

podman_remove() {
	local root=$1
	podman_args "$root"
	"${P[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
	umount_below "$root"
	rm -rf "$root"
}

# ---------------------------------------------------------------- 1: cold unpacks

# hull: import from the layout, or pull from the registry, then the first
# mount, which unpacks every layer; all into a fresh store.
cold_hull() {
	local kind=$1 store=$work/cold/$1-$2 bundle=$work/cold/$1-$2.bundle fetch ref a b
	failed "$kind" && return 0
	if [[ $kind == hull-import ]]; then
		fetch=(import "$LAYOUT") ref=$REF
	else
		fetch=(pull "$REG_REF") ref=$REG_REF
	fi
	if timed "$kind-fetch" "$HULL" image --image-root "$store" "${fetch[@]}" &&
	   timed "$kind-mount" "$HULL" image --image-root "$store" mount "$ref" "$bundle"; then
		local suffix
		for suffix in "" .cpu; do
			a=$(tail -n1 "$work/samples/$kind-fetch$suffix") b=$(tail -n1 "$work/samples/$kind-mount$suffix")
			echo $((a + b)) >>"$work/samples/$kind$suffix"
		done
	else
		FAILED[$kind]=${FAILED[$kind-fetch]:-${FAILED[$kind-mount]:-}}
	fi
	"$HULL" image --image-root "$store" umount "$bundle" >/dev/null 2>&1 || true
	umount_below "$bundle"
	rm -rf "$store" "$bundle"
}

# umoci: unpack the layout into a fresh bundle; the first BENCH_BUNDLES are
# kept for the many-containers part (an unpack is an unpack).
cold_umoci() {
	local i=$1 bundle=$work/many/umoci-$1
	failed umoci && return 0
	timed umoci "$UMOCI" unpack --image "$LAYOUT:1" "$bundle" || rm -rf "$bundle"
	((i < BENCH_BUNDLES)) || rm -rf "$bundle"
}

cold_podman() {
	local i=$1 root=$work/cold/podman-$1
	failed podman-pull && return 0
	podman_args "$root"
	timed podman-pull "${P[@]}" pull -q --tls-verify=false "$REG_REF" || true
	podman_remove "$root"
}

bench_cold() {
	local i k sides=(hull-import umoci hull-pull podman) n=4
	mkdir -p "$work/cold"
	TIMED_SYNC=1
	for ((i = 0; i < BENCH_N; i++)); do
		say "cold unpack and pull $((i + 1))/$BENCH_N"
		for ((k = 0; k < n; k++)); do
			case ${sides[(i + k) % n]} in
			hull-import) cold_hull hull-import "$i" ;;
			hull-pull) cold_hull hull-pull "$i" ;;
			umoci) cold_umoci "$i" ;;
			podman) cold_podman "$i" ;;
			esac
		done
	done
	TIMED_SYNC=0
}

# ---------------------------------------------------------------- 2: warm stores

# The store every later part uses: the layout imported and its layers
# unpacked (by one mount), and podman's root with the registry's image.
make_warm() {
	STORE=$work/store
	"$HULL" image --image-root "$STORE" import "$LAYOUT" >/dev/null ||
		die "hull image import of the layout failed"
	"$HULL" image --image-root "$STORE" mount "$REF" "$work/warm-bundle" >/dev/null &&
		"$HULL" image --image-root "$STORE" umount "$work/warm-bundle" ||
		die "hull image mount of $REF failed"
	rmdir "$work/warm-bundle"
	podman_args "$work/podman"
	PODMAN_WARM=("${P[@]}")
	"${PODMAN_WARM[@]}" pull -q --tls-verify=false "$REG_REF" >"$work/out" 2>&1 ||
		FAILED[podman-run]="podman pull failed: $(grep -m1 . "$work/out" | cut -c1-160)"
}

bench_assembly() {
	local i bundle=$work/assembly
	say "bundle assembly: $((20 * BENCH_N)) mounts and umounts"
	for ((i = 0; i < 20 * BENCH_N; i++)); do
		timed mount "$HULL" image --image-root "$STORE" mount "$REF" "$bundle" || break
		timed umount "$HULL" image --image-root "$STORE" umount "$bundle" || break
		timed floor-true /bin/true || true
		timed floor-hull "$HULL" --version || true
	done
	umount_below "$bundle"
	rm -rf "$bundle"
}

bench_run() {
	local i k
	say "run to the first byte: $((4 * BENCH_N)) runs each"
	for ((i = 0; i < 4 * BENCH_N; i++)); do
		for ((k = 0; k < 2; k++)); do
			if (((i + k) % 2 == 0)); then
				failed hull-run || timed_first_byte hull-run x "$HULL" --root "$work/hull-root" \
					run --image "$REF" --image-root "$STORE" --rm -- /bin/echo x || true
			else
				failed podman-run || timed_first_byte podman-run x "${PODMAN_WARM[@]}" run --rm \
					--network none --pull never --cgroup-parent "$CG_NAME/podman" \
					"$REG_REF" /bin/echo x || true
			fi
		done
	done
}

# ---------------------------------------------------------------- 3: many containers

# The memory cgroup of the bench (CG_NAME) and its file-page counter.
memcg_setup() {
	CG_NAME=/hull-image-bench-$$
	MEMCG= MEMCG_STAT=
	if [[ -f /sys/fs/cgroup/memory/memory.stat ]]; then
		MEMCG=/sys/fs/cgroup/memory$CG_NAME MEMCG_STAT=total_cache
	elif grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
		MEMCG=/sys/fs/cgroup$CG_NAME MEMCG_STAT=file
	fi
	[[ -z $MEMCG ]] || mkdir -p "$MEMCG/hull" "$MEMCG/umoci"
}

# The file pages (bytes) charged to the bench's cgroup SIDE, or "-".
memcg_file() {
	[[ -n $MEMCG ]] || { echo -; return; }
	awk -v k="$MEMCG_STAT" '$1 == k { print $2 }' "$MEMCG/$1/memory.stat"
}

memcg_remove() {
	local dir
	for dir in /sys/fs/cgroup/*"$CG_NAME" /sys/fs/cgroup"$CG_NAME"; do
		[[ -d $dir ]] || continue
		find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# config_for BUNDLE SIDE I: the config.json of the first hull bundle made
# for BUNDLE: its rootfs, in the cgroup CG_NAME/SIDE/cI.
config_for() {
	local bundle=$1 side=$2 i=$3
	sed -e "s|\"path\": \"$TEMPLATE_ROOTFS\"|\"path\": \"$bundle/rootfs\"|" \
	    -e "s|^\\([[:space:]]*\\)\"linux\": {|&\\n\\1\\t\"cgroupsPath\": \"$CG_NAME/$side/c$i\",|" \
	    "$work/template.json" >"$bundle/config.json"
	grep -qF "\"path\": \"$bundle/rootfs\"" "$bundle/config.json" &&
		grep -qF "\"cgroupsPath\": \"$CG_NAME/$side/c$i\"" "$bundle/config.json" ||
		die "could not adapt the config.json of $bundle"
}

# wait_done SIDE FILE...: until every FILE exists (each container's /done).
wait_done() {
	local side=$1 f tries
	shift
	for f in "$@"; do
		for ((tries = 0; tries < 100 * BENCH_TIMEOUT; tries++)); do
			[[ -e $f ]] && continue 2
			sleep 0.01
		done
		FAILED[many-$side]="a container never wrote $f"
		return 1
	done
}

# run_many SIDE COUNT DONE: COUNT containers of SIDE's bundles, all started
# (hull run -d) before any is waited for; each reads /usr/lib and writes
# DONE (relative to its bundle).  Takes the growth of SIDE's cgroup.
run_many() {
	local side=$1 count=$2 marker=$3 i before after files=()
	say "running $count containers of the $side bundles"
	before=$(memcg_file "$side")
	for ((i = 0; i < count; i++)); do
		if ! "$HULL" --root "$work/hull-root" run -d -b "$work/many/$side-$i" "many-$side-$i" \
			>"$work/out" 2>&1 </dev/null; then
			FAILED[many-$side]="hull run: $(grep -m1 . "$work/out" | cut -c1-160)"
			return 1
		fi
		files+=("$work/many/$side-$i/$marker")
	done
	wait_done "$side" "${files[@]}" || return 1
	after=$(memcg_file "$side")
	[[ $before == - ]] && MEMCG_GROWTH[$side]=- || MEMCG_GROWTH[$side]=$((after - before))
}

bench_many() {
	local i
	say "$BENCH_MANY bundles of the image (hull image mount)"
	for ((i = 0; i < BENCH_MANY; i++)); do
		"$HULL" image --image-root "$STORE" mount "$REF" "$work/many/hull-$i" >"$work/out" 2>&1 ||
			die "hull image mount $work/many/hull-$i failed: $(grep -m1 . "$work/out")"
		if ((i == 0)); then
			cp "$work/many/hull-0/config.json" "$work/template.json"
			TEMPLATE_ROOTFS=$work/many/hull-0/rootfs
		fi
		config_for "$work/many/hull-$i" hull "$i"
	done
	# umoci's bundles: those of the cold part, and more up to BENCH_BUNDLES.
	for ((i = 0; i < BENCH_BUNDLES; i++)); do
		failed many-umoci && break
		[[ -d $work/many/umoci-$i ]] && continue
		say "umoci unpack $((i + 1))/$BENCH_BUNDLES"
		"$UMOCI" unpack --image "$LAYOUT:1" "$work/many/umoci-$i" >"$work/out" 2>&1 ||
			FAILED[many-umoci]="umoci unpack: $(grep -m1 . "$work/out" | cut -c1-160)"
	done
	failed many-umoci || for ((i = 0; i < BENCH_BUNDLES; i++)); do
		config_for "$work/many/umoci-$i" umoci "$i"
	done

	say "dropping the layers' and bundles' pages (those files only)"
	"$work/bin/page-cache" evict "$STORE/layers" "$work"/many/umoci-*/rootfs
	RESIDENT_BEFORE[hull]=$("$work/bin/page-cache" resident "$STORE/layers")
	RESIDENT_BEFORE[umoci]=$("$work/bin/page-cache" resident "$work"/many/umoci-*/rootfs)

	run_many hull "$BENCH_MANY" .upper/done || true
	failed many-umoci || run_many umoci "$BENCH_BUNDLES" rootfs/done || true

	DISK[hull]=$(du -sxcB1 "$STORE" "$work"/many/hull-* | tail -n1 | cut -f1)
	RESIDENT[hull]=$("$work/bin/page-cache" resident "$STORE/layers")
	if ! failed many-umoci; then
		DISK[umoci-layout]=$(du -sB1 "$LAYOUT" | cut -f1)
		DISK[umoci]=$(du -sxcB1 "$work"/many/umoci-* | tail -n1 | cut -f1)
		RESIDENT[umoci]=$("$work/bin/page-cache" resident "$work"/many/umoci-*/rootfs)
		local b
		for b in "$work"/many/umoci-*; do
			PER_BUNDLE+="${PER_BUNDLE:+, }$(fmt_mb "$(du -sxB1 "$b" | cut -f1)")/$(fmt_mb "$("$work/bin/page-cache" resident "$b/rootfs")")"
		done
	fi

	say "removing the containers"
	for ((i = 0; i < BENCH_MANY; i++)); do
		"$HULL" --root "$work/hull-root" delete --force "many-hull-$i" >/dev/null 2>&1 || true
		"$HULL" image --image-root "$STORE" umount "$work/many/hull-$i" >/dev/null 2>&1 || true
	done
	for ((i = 0; i < BENCH_BUNDLES; i++)); do
		"$HULL" --root "$work/hull-root" delete --force "many-umoci-$i" >/dev/null 2>&1 || true
	done
}

# ---------------------------------------------------------------- report

declare -A DISK RESIDENT RESIDENT_BEFORE MEMCG_GROWTH
PER_BUNDLE=""

value() {   # NAME: its median; fails when FAILED or no sample
	failed "$1" && return 1
	[[ -s $work/samples/$1 ]] || return 1
	median "$work/samples/$1"
}

fmt_s() { awk -v us="$1" 'BEGIN { printf "%.2f s", us / 1e6 }'; }
fmt_ms() { awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1e3 }'; }
fmt_mb() { awk -v b="$1" 'BEGIN { if (b >= 1e9) printf "%.2f GB", b / 1e9; else printf "%.1f MB", b / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }

# cell NAME FORMAT [BASE]: the median of NAME formatted, with its ratio to
# BASE's median when given; FAILED, or - when not measured.
cell() {
	local name=$1 fmt=$2 base=${3:-} v b
	failed "$name" && { echo FAILED; return; }
	v=$(value "$name") || { echo -; return; }
	if [[ -n $base ]] && b=$(value "$base"); then
		printf '%s (%s)' "$($fmt "$v")" "$(ratio "$v" "$b")"
	else
		$fmt "$v"
	fi
}

# target CONDITION A B: PASS when the awk CONDITION over a and b holds,
# - when A or B is missing.
target() {
	[[ -n $2 && -n $3 ]] || { echo -; return; }
	awk -v a="$2" -v b="$3" "BEGIN { exit !($1) }" && echo PASS || echo MISS
}

row() { printf '%-26s %-20s %-24s %-20s %s\n' "$@"; }

# The many-containers numbers: bytes for hull, umoci's scaled from
# BENCH_BUNDLES real bundles to BENCH_MANY; "-" where not measured.
many_values() {
	local scale
	scale=$(awk -v m="$BENCH_MANY" -v b="$BENCH_BUNDLES" 'BEGIN { print m / b }')
	declare -gA MANY
	MANY[disk.hull]=${DISK[hull]:--}
	MANY[disk.umoci]=-
	[[ -z ${DISK[umoci]:-} ]] ||
		MANY[disk.umoci]=$(awk -v l="${DISK[umoci-layout]}" -v b="${DISK[umoci]}" -v s="$scale" 'BEGIN { printf "%.0f", l + b * s }')
	MANY[memcg.hull]=${MEMCG_GROWTH[hull]:--}
	MANY[resident.hull]=${RESIDENT[hull]:--}
	local what v
	for what in memcg resident; do
		[[ $what == memcg ]] && v=${MEMCG_GROWTH[umoci]:--} || v=${RESIDENT[umoci]:--}
		[[ $v == - ]] || v=$(awk -v v="$v" -v s="$scale" 'BEGIN { printf "%.0f", v * s }')
		MANY[$what.umoci]=$v
	done
	failed many-hull && MANY[disk.hull]=FAILED MANY[memcg.hull]=FAILED MANY[resident.hull]=FAILED
	failed many-umoci && MANY[disk.umoci]=FAILED MANY[memcg.umoci]=FAILED MANY[resident.umoci]=FAILED
	return 0
}

many_cell() {   # WHAT SIDE
	local v=${MANY[$1.$2]} u=${MANY[$1.umoci]}
	case $v in -|FAILED) echo "$v"; return ;; esac
	if [[ $2 == hull && $u != - && $u != FAILED ]]; then
		printf '%s (%s)' "$(fmt_mb "$v")" "$(ratio "$v" "$u")"
	elif [[ $2 == umoci && $BENCH_BUNDLES != "$BENCH_MANY" ]]; then
		printf '%s (scaled)' "$(fmt_mb "$v")"
	else
		fmt_mb "$v"
	fi
}

report() {
	local hi um mo
	hi=$(value hull-import || true) um=$(value umoci || true) mo=$(value mount || true)
	many_values
	echo
	echo "hull image bench: medians (runs in brackets); ratio = hull's value / the other tool's on the row"
	echo "kernel $(uname -r), $(nproc) CPUs, cgroup v1 (unified unmounted in a private mount ns);"
	echo "  load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end: under CPU"
	echo "  contention wall times follow each tool's share (umoci and podman run many threads, hull one)"
	printf 'image: %d gzip layers, %s uncompressed (%d tar entries), %s of blobs; an OCI layout and a\n' \
		"$N_LAYERS" "$(fmt_mb "$IMAGE_BYTES")" "$IMAGE_FILES" "$(fmt_mb "$GZ_BYTES")"
	echo "  docker-registry on 127.0.0.1.  Page cache left as it was (the blobs are cached after"
	echo "  their first read); a sync before each timed command of the cold part."
	printf '  hull %s; umoci %s; %s; docker-registry %s\n' "$HULL" \
		"$("$UMOCI" --version 2>/dev/null | awk '{print $3}')" "$("$PODMAN" --version)" \
		"$("$REGISTRY" --version 2>/dev/null | awk '{print $NF}')"
	echo
	row metric hull umoci podman target
	row "unpack, cold ($BENCH_N)" "$(cell hull-import fmt_s umoci)" "$(cell umoci fmt_s)" - \
		"hull <= 0.5x umoci: $(target 'a <= 0.5 * b' "$hi" "$um")"
	row "  CPU (user+sys)" "$(cell hull-import.cpu fmt_s umoci.cpu)" "$(cell umoci.cpu fmt_s)" - -
	row "pull+unpack, cold ($BENCH_N)" "$(cell hull-pull fmt_s podman-pull)" - "$(cell podman-pull fmt_s)" -
	row "  CPU (user+sys)" "$(cell hull-pull.cpu fmt_s podman-pull.cpu)" - "$(cell podman-pull.cpu fmt_s)" -
	row "image mount ($((20 * BENCH_N)))" "$(cell mount fmt_ms)" - - "<= 5 ms: $(target 'a <= 5000' "$mo" 0)"
	row "  CPU (user+sys)" "$(cell mount.cpu fmt_ms)" - - -
	row "image umount ($((20 * BENCH_N)))" "$(cell umount fmt_ms)" - - -
	row "  floor: hull --version" "$(cell floor-hull fmt_ms)" - - "(/bin/true: $(cell floor-true fmt_ms))"
	row "  floor CPU" "$(cell floor-hull.cpu fmt_ms)" - - "(/bin/true: $(cell floor-true.cpu fmt_ms))"
	row "run, 1st byte ($((4 * BENCH_N)))" "$(cell hull-run-first fmt_ms podman-run-first)" - "$(cell podman-run-first fmt_ms)" -
	row "run, to exit ($((4 * BENCH_N)))" "$(cell hull-run fmt_ms podman-run)" - "$(cell podman-run fmt_ms)" -
	row "disk, $BENCH_MANY containers" "$(many_cell disk hull)" "$(many_cell disk umoci)" - -
	row "page cache, memcg" "$(many_cell memcg hull)" "$(many_cell memcg umoci)" - -
	row "page cache, resident" "$(many_cell resident hull)" "$(many_cell resident umoci)" - -
	echo
	echo "CPU: user + system time of the command and the children it reaped (bash's time of measure)."
	echo "unpack, cold: hull = \`hull image import LAYOUT' $(cell hull-import-fetch fmt_s) + first \`hull image mount'"
	echo "  $(cell hull-import-mount fmt_s) (every layer unpacked into a fresh store); umoci = \`umoci unpack'."
	echo "pull+unpack: hull = \`hull image pull' $(cell hull-pull-fetch fmt_s) + first mount $(cell hull-pull-mount fmt_s);"
	echo "  podman = \`podman pull' into a fresh --root (overlay driver: layers unpacked too)."
	echo "image mount: from the cached store; the floor rows are the cost of starting a process here."
	echo "run: \`hull run --image IMAGE --rm -- /bin/echo x' vs \`podman run --rm --network none IMAGE /bin/echo x'"
	echo "  (crun); from the spawn to the first byte of output, and to the exit."
	echo "disk: du of hull's store (blobs + unpacked layers) and the $BENCH_MANY bundles (.upper, .work,"
	echo "  config.json), vs the layout + the unpacked bundles."
	echo "page cache: each container (hull runs both kinds, same config.json) reads all of /usr/lib"
	echo "  and exits; before, every file of the layers and bundles was written back and dropped from"
	echo "  the page cache (those files only).  memcg: growth of the file pages charged to the"
	echo "  containers' parent memory cgroup${MEMCG:+ ($MEMCG_STAT in the memory.stat of}"
	[[ -z $MEMCG ]] || echo "  $MEMCG/hull and /umoci).  resident: the bytes"
	[[ -n $MEMCG ]] || echo "  (no memory cgroup to use here).  resident: the bytes"
	echo "  of the layers' / bundles' files in the page cache after the reads (mincore; before them:"
	echo "  $(fmt_mb "${RESIDENT_BEFORE[hull]:-0}") / $(fmt_mb "${RESIDENT_BEFORE[umoci]:-0}"))."
	if ((BENCH_BUNDLES != BENCH_MANY)); then
		echo "  umoci's are measured over $BENCH_BUNDLES real bundles (umoci unpack, containers run) and scaled"
		echo "  to $BENCH_MANY (x$((BENCH_MANY / BENCH_BUNDLES))): each bundle is a private copy; BENCH_BUNDLES=$BENCH_MANY measures all."
		echo "  umoci bundles, disk/resident each: $PER_BUNDLE"
	fi
	local name
	for name in $(printf '%s\n' "${!FAILED[@]}" | sort); do
		echo "$name FAILED: ${FAILED[$name]}"
	done
	echo
	echo "summary unpack: hull $(cell hull-import fmt_s umoci), umoci $(cell umoci fmt_s), target $(target 'a <= 0.5 * b' "$hi" "$um")"
	echo "summary pull: hull $(cell hull-pull fmt_s podman-pull), podman $(cell podman-pull fmt_s)"
	echo "summary mount: $(cell mount fmt_ms), umount $(cell umount fmt_ms), target $(target 'a <= 5000' "$mo" 0)"
	echo "summary run-1st-byte: hull $(cell hull-run-first fmt_ms podman-run-first), podman $(cell podman-run-first fmt_ms)"
	echo "summary disk-$BENCH_MANY: hull $(many_cell disk hull), umoci $(many_cell disk umoci)"
	echo "summary cache-$BENCH_MANY: memcg hull $(many_cell memcg hull), umoci $(many_cell memcg umoci);" \
		"resident hull $(many_cell resident hull), umoci $(many_cell resident umoci)"
}

# ---------------------------------------------------------------- inner part

inner_cleanup() {
	local i dir
	set +e
	for dir in "$work"/hull-root/*/; do
		[[ -d $dir ]] && "$HULL" --root "$work/hull-root" delete --force "$(basename "$dir")" >/dev/null 2>&1
	done
	[[ -n ${PODMAN_WARM[*]:-} ]] && podman_remove "$work/podman"
	for dir in "$work"/cold/podman-*; do
		[[ -d $dir ]] && podman_remove "$dir"
	done
	if [[ -n ${REG_PID:-} ]]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	umount_below "$work"
	[[ -z ${CG_NAME:-} ]] || memcg_remove
}

inner() {
	work=$1
	[[ $(readlink /proc/self/ns/mnt) != $(readlink /proc/$PPID/ns/mnt) ]] ||
		die "not in a private mount namespace; refusing to touch mounts"
	trap inner_cleanup EXIT
	if mountpoint -q /sys/fs/cgroup/unified; then
		umount /sys/fs/cgroup/unified
	fi
	mount --bind "$work/var-lib" /var/lib
	# As root podman asks for RLIMIT_NOFILE and NPROC above the hard limits,
	# which needs CAP_SYS_RESOURCE: ask for what we have (tests/engines do too).
	cat >"$work/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
	EOF
	export CONTAINERS_CONF=$work/containers.conf
	cd "$work"       # conmon writes files into its working directory
	mkdir -p "$work/samples" "$work/hull-root" "$work/many"
	memcg_setup
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

	say "making the image (OCI layout) from the host's files"
	make_image
	start_registry
	push_image
	say "image: $N_LAYERS layers, $(fmt_mb "$IMAGE_BYTES") uncompressed, $(fmt_mb "$GZ_BYTES") gzip; registry at 127.0.0.1:$REG_PORT"

	bench_cold
	make_warm
	bench_assembly
	bench_run
	bench_many
	report
}

if [[ ${1:-} == --inner ]]; then
	inner "$2"
else
	outer
fi
