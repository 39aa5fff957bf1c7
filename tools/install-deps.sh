#!/bin/sh
# Installs the Debian packages cliff needs, only those that are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -e
PKGS="build-essential pkg-config libprotobuf-c-dev libprotobuf-dev protobuf-c-compiler libopenblas-dev
libhdf5-dev hdf5-tools libyaml-dev liblmdb-dev libleveldb-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev python3-pil dataset-fashion-mnist clang
libclang-rt-14-dev gnuplot-nox python3-numpy python3-h5py fortunes fortunes-min libopenmpi-dev openmpi-bin help2man man-db $CLIFF_EXTRA_PKGS"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "cliff needs these Debian packages:$missing" >&2
    echo "run: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
