#!/bin/bash
# make fresh-check: do the README's commands work on a bare Debian 12?
#
# Builds a minimal Debian 12 root (debootstrap --variant=minbase, from the mirror
# this machine's apt already uses, read at run time) and caches it as a tar in
# BUILD/fresh/. Each check unpacks a pristine copy of that root, clones the
# committed HEAD (not the working tree) into /root/cliff, and runs, in a chroot,
# every command line of the first ```sh block under "## The two commands" in that
# clone's README.md, in order, exactly as written. It prints each command's
# closing lines and a verdict, and exits non-zero when a command fails.
#
# Needs root (debootstrap, chroot, mount) and the Debian mirror; takes minutes.
# Usage: tools/fresh-check.sh [BUILD]   (FRESH_TAIL=N closing lines, default 8;
#        FRESH_KEEP=1 keeps the root after the check for a look inside.)
set -euo pipefail

BUILD=${1:-build}
TAIL=${FRESH_TAIL:-8}
SUITE=bookworm
SECTION='## The two commands'

die() { echo "fresh-check: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] ||
    die "needs root (debootstrap, chroot and mount); run: sudo make fresh-check"
for tool in git tar mount umount chroot flock; do
    command -v "$tool" > /dev/null || die "missing '$tool' on this machine"
done
if ! command -v debootstrap > /dev/null; then
    echo "fresh-check: installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
              apt-get install -y -qq debootstrap > /dev/null; } ||
        die "could not install debootstrap; run: apt-get install -y debootstrap"
fi

repo=$(git rev-parse --show-toplevel)
head=$(git -C "$repo" rev-parse HEAD)
mkdir -p "$BUILD/fresh"
work=$(cd "$BUILD/fresh" && pwd -P)
cache="$work/debian-$SUITE-minbase.tar"
root="$work/root"
logs="$work/logs"

exec 9> "$work/lock"
flock -n 9 || die "another fresh-check is using $work"

# --- the mirror, from this machine's apt sources ---------------------------------
# Prints "URI SUITE COMPONENTS..." for every enabled `deb` entry of a Debian 12
# suite (bookworm, bookworm-updates, bookworm-security), from one-line .list files
# and deb822 .sources files alike. Files apt itself ignores (other endings) are skipped.
apt_entries() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v s="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) !~ "^" s "(-updates|-security)?$") next
                line = $i " " $(i + 1)
                for (j = i + 2; j <= NF && $j !~ /^#/; j++) line = line " " $j
                print line
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk -v s="$SUITE" '
            function flush(   n, u, m, t, k, i, j) {
                if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
                    n = split(uris, u, " "); m = split(suites, t, " ")
                    for (i = 1; i <= n; i++)
                        for (j = 1; j <= m; j++)
                            if (t[j] ~ "^" s "(-updates|-security)?$")
                                print u[i], t[j], comps
                }
                types = uris = suites = comps = enabled = ""; key = ""
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { # continuation of the previous field
                v = $0; sub(/^[ \t]+/, "", v)
                if (key == "uris") uris = uris " " v
                else if (key == "suites") suites = suites " " v
                else if (key == "components") comps = comps " " v
                next
            }
            {
                key = tolower($0); sub(/:.*/, "", key)
                v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                if (key == "types") types = v
                else if (key == "uris") uris = v
                else if (key == "suites") suites = v
                else if (key == "components") comps = v
                else if (key == "enabled") enabled = v
            }
            END { flush() }' "$f"
    done
}
entries=$(apt_entries | awk '!seen[$0]++')
mirror=$(echo "$entries" | awk -v s="$SUITE" '$2 == s { print $1; exit }')
[ -n "$mirror" ] ||
    die "no 'deb ... $SUITE' entry in /etc/apt/sources.list or /etc/apt/sources.list.d/"

# --- mounts, and their reliable removal -------------------------------------------
# Mount points under the root, deepest first (from /proc/self/mounts, where a space
# in a path reads \040; the root's path has none).
mounts_under() {
    awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r
}

# Ends the processes still running inside the root (a daemon or an interrupted
# build), then unmounts everything below it and removes it. A mount that will not
# go is detached (umount -l); rm never crosses into another file system.
teardown() {
    local dir=$1 p m killed=0
    [ -d "$dir" ] || return 0
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$dir" ]; then
            kill -TERM "${p#/proc/}" 2>/dev/null || true
            killed=1
        fi
    done
    if [ $killed = 1 ]; then sleep 2; fi
    for m in $(mounts_under "$dir"); do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    if [ -n "$(mounts_under "$dir")" ]; then
        echo "fresh-check: still mounted under $dir, not removing it:" >&2
        mounts_under "$dir" >&2
        return 1
    fi
    [ "${2:-}" = keep ] || rm -rf --one-file-system "$dir"
}

cleanup() {
    local rc=$?
    set +e
    case $rc in 130|143) echo "fresh-check: interrupted; removing $root" >&2 ;; esac
    teardown "$root" "$([ "${FRESH_KEEP:-}" = 1 ] && echo keep)" || rc=1
    teardown "$work/bootstrap" || rc=1
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the cached minimal root --------------------------------------------------------
# The cache is keyed by the mirror and the sources it was made from.
stamp="$mirror $(echo "$entries" | tr '\n' ';')"
if [ ! -f "$cache" ] || [ "$(cat "$cache.sources" 2>/dev/null)" != "$stamp" ]; then
    echo "fresh-check: debootstrap --variant=minbase $SUITE from $mirror (once; cached in $cache)"
    teardown "$work/bootstrap"
    start=$(date +%s)
    if ! debootstrap --variant=minbase "$SUITE" "$work/bootstrap" "$mirror" \
            > "$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log" >&2
        die "debootstrap failed (full log: $work/debootstrap.log)"
    fi
    # The root's apt reads the same Debian suites as this machine's.
    echo "$entries" | sed 's/^/deb /' > "$work/bootstrap/etc/apt/sources.list"
    rm -f "$work/bootstrap"/var/cache/apt/archives/*.deb
    tar -C "$work/bootstrap" -cf "$cache.tmp" .
    mv "$cache.tmp" "$cache"
    echo "$stamp" > "$cache.sources"
    teardown "$work/bootstrap"
    echo "fresh-check: root ready in $(( $(date +%s) - start )) s"
fi

# --- a pristine root with a clean clone of HEAD -------------------------------------
teardown "$root"
mkdir -p "$root"
tar -C "$root" -xf "$cache"
git clone -q --no-hardlinks --no-checkout "$repo" "$root/root/cliff"
git -C "$root/root/cliff" checkout -q --detach "$head"
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
    echo "fresh-check: note: uncommitted changes in $repo are not part of the check"

# The README's commands, from the clone's own README: every non-blank, non-comment
# line of the first sh block in the section.
mapfile -t commands < <(awk -v sec="$SECTION" '
    /^## / { in_sec = ($0 == sec); next }
    in_sec && !in_code && /^```sh[ \t]*$/ { in_code = 1; next }
    in_code && /^```/ { exit }
    in_code && NF && $1 !~ /^#/ { print }' "$root/root/cliff/README.md")
[ "${#commands[@]}" -ge 2 ] ||
    die "README.md has no \`\`\`sh block of commands under '$SECTION'"

# What any Debian machine has and a bare root lacks: kernel file systems, device
# nodes, name resolution. policy-rc.d keeps package scripts from starting daemons
# inside the chroot (they would outlive the check and hold its mounts).
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount -t tmpfs -o mode=755,size=1m,nosuid dev "$root/dev"
for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
    set -- $node
    mknod -m 666 "$root/dev/$1" "$2" "$3" "$4"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s fd/0 "$root/dev/stdin"; ln -s fd/1 "$root/dev/stdout"; ln -s fd/2 "$root/dev/stderr"
mkdir "$root/dev/pts" "$root/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
if mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null; then
    ln -s pts/ptmx "$root/dev/ptmx"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# --- the README's commands ------------------------------------------------------------
# A login-like environment and nothing of this machine's (no LANG, no thread counts).
echo "fresh-check: commit $(git -C "$repo" log -1 --format='%h %s' | cut -c1-70)"
echo "fresh-check: ${#commands[@]} commands from README.md '$SECTION', as root in a bare Debian 12"
rm -rf "$logs"; mkdir -p "$logs"
verdict=0 n=0 total_start=$(date +%s)
for cmd in "${commands[@]}"; do
    n=$((n + 1))
    log="$logs/$n.log"
    echo
    echo "== \$ $cmd"
    start=$(date +%s)
    # In the background with `wait`, so that a signal to this script is handled at
    # once (the trap then ends what runs inside the root) rather than after it.
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c "cd /root/cliff && $cmd" < /dev/null > "$log" 2>&1 &
    rc=0
    wait $! || rc=$?
    # A progress line redrawn with \r shows as its last state.
    sed 's/\r$//; s/.*\r//' "$log" | tail -n "$TAIL" | sed 's/^/   | /'
    echo "-- exit $rc after $(( $(date +%s) - start )) s (full output: $log)"
    if [ $rc -ne 0 ]; then verdict=1; break; fi
done

echo
if [ $verdict -eq 0 ]; then
    echo "fresh-check: PASS: all ${#commands[@]} README commands succeeded on a bare Debian 12 in $(( $(date +%s) - total_start )) s"
else
    echo "fresh-check: FAIL: '$cmd' exited non-zero (command $n of ${#commands[@]})"
fi
exit $verdict
