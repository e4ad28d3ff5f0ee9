#!/bin/sh
# Builds the .deb with CPack from this build tree, installs it with dpkg, runs the
# installed binary on the installed config, verifies the systemd unit, removes it.
# Exits 77 (ctest SKIP) when not root, when dpkg/cpack are missing, or when a flowlier
# package is already installed on this machine (the test must not replace it).
set -eu
build="${1:?usage: test_package.sh <build dir>}"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "installing a .deb needs root"
command -v dpkg >/dev/null 2>&1 && command -v cpack >/dev/null 2>&1 || skip "dpkg or cpack missing"
if dpkg-query -W -f='${Status}' flowlier 2>/dev/null | grep -q "ok installed"; then
  skip "a flowlier package is already installed here; not replacing it"
fi

out=$(mktemp -d)
cleanup() {
  if dpkg-query -W flowlier >/dev/null 2>&1; then dpkg --purge flowlier >/dev/null; fi
  rm -rf "$out"
}
trap cleanup EXIT

cpack -G DEB -B "$out" --config "$build/CPackConfig.cmake" >"$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/flowlier_*.deb)
echo "built $(basename "$deb")"

dpkg -i "$deb"
dpkg -L flowlier | grep -qx /etc/flowlier/flowlier.toml
dpkg-query -W -f='${Conffiles}\n' flowlier | grep -q /etc/flowlier/flowlier.toml || { echo "the config is not a conffile"; exit 1; }

/usr/bin/flowlier --version
/usr/bin/flowlier --version | grep -q '^flowlier [0-9]'
/usr/bin/flowlier run --check-config /etc/flowlier/flowlier.toml
# A bad config must fail the same check (so the line above means something).
bad="$out/bad.toml"
printf '[window]\nseconds = "x"\n' >"$bad"
if /usr/bin/flowlier run --check-config "$bad" 2>/dev/null; then echo "a bad config passed --check-config"; exit 1; fi

zcat /usr/share/man/man1/flowlier.1.gz | grep -q '^\.TH FLOWLIER'
bash -c '. /usr/share/bash-completion/completions/flowlier; COMP_WORDS=(flowlier r); COMP_CWORD=1; _flowlier;
         [ "${COMPREPLY[*]}" = "replay run" ]' || { echo "bash completion does not complete subcommands"; exit 1; }

unit=$(dpkg -L flowlier | grep '/systemd/system/flowlier.service$')
if command -v systemd-analyze >/dev/null 2>&1; then
  # Verify only (systemd may not be PID 1 here); any message is a finding.
  msgs=$(systemd-analyze verify "$unit" 2>&1) || { echo "$msgs"; exit 1; }
  if [ -n "$msgs" ]; then echo "systemd-analyze verify: $msgs"; exit 1; fi
  echo "systemd-analyze verify: ok"
  systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 || true
else
  echo "systemd-analyze missing: unit not verified (apt-get install systemd)"
fi

dpkg -r flowlier
[ ! -e /usr/bin/flowlier ] || { echo "/usr/bin/flowlier left behind"; exit 1; }
dpkg --purge flowlier >/dev/null
[ ! -e /etc/flowlier/flowlier.toml ] || { echo "purge left /etc/flowlier/flowlier.toml"; exit 1; }
echo "package ok"
