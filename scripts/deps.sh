#!/usr/bin/env bash
# Install what crest needs to build and test (Debian 12, as root).
set -euo pipefail
pkgs=(gcc make bc libprotobuf-c-dev protobuf-c-compiler libxxhash-dev libzstd-dev libmnl-dev libnftables-dev redis-server python3 procps util-linux coreutils tmux)
pkgs+=(libarchive-dev)   # tmpfs content of mount namespaces (lib/ns/mnt_tmpfs.c)
pkgs+=(clang libclang-rt-14-dev)   # the image fuzzer (make fuzz-run)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}"
fi
