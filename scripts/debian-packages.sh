#!/bin/sh
# The one place that knows how to get the Debian packages a make target needs.
#
# Usage: scripts/debian-packages.sh TARGET PACKAGE...
#
# Prints what to run, and runs nothing itself (so `make -n` installs nothing):
#   - nothing, when every package is there (judged by the file or command it provides, so
#     a tool installed another way counts too);
#   - the apt-get commands for the missing packages only, with `apt-get update` first (a
#     fresh machine has no package lists), as root or through password-less `sudo -n`;
#   - otherwise one line starting with "STOP", naming the exact command to run as root.
# The Makefile runs the commands, or stops with the STOP line as its only output.
set -eu

target=$1
shift

# Whether a package is there: the file or command the tests use, else dpkg's word.
present() {
    case $1 in
        wordnet-base) test -f "${WORDNET_SOURCE:-/usr/share/wordnet}/data.noun" ;;
        docker-compose | wrk | redis-server | socat) command -v "$1" >/dev/null 2>&1 ;;
        *) dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q ' installed$' ;;
    esac
}

missing=
for package in "$@"; do
    present "$package" || missing="$missing $package"
done
[ -n "$missing" ] || exit 0
missing=${missing# }

if ! command -v apt-get >/dev/null 2>&1; then
    as=none
elif [ "$(id -u)" = 0 ]; then
    as=
elif sudo -n true >/dev/null 2>&1; then
    as="sudo -n "
else
    as=none
fi

if [ "$as" = none ]; then
    echo "STOP $target needs the Debian packages $missing; as root, run:" \
        "apt-get update && apt-get install -y --no-install-recommends $missing"
else
    echo "${as}apt-get update -qq && ${as}env DEBIAN_FRONTEND=noninteractive" \
        "apt-get install -y -qq --no-install-recommends $missing"
fi
