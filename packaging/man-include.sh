#!/bin/sh
# help2man include file: one SUBCOMMANDS subsection per subcommand, its --help verbatim.
set -eu
bin="$1"
echo "[SUBCOMMANDS]"
for sub in $("$bin" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}'); do
  echo ".SS \"flowlier $sub\""
  echo ".nf"
  "$bin" "$sub" --help | tail -n +2 | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e "s|$bin|flowlier|g"
  echo ".fi"
done
cat <<'TXT'
[FILES]
.TP
.I /etc/flowlier/flowlier.toml
The service's configuration (\fBflowlier config \-\-defaults\fR prints every key with its default).
.TP
.I /var/lib/flowlier
State directory of the systemd unit: snapshots and sink spools.
[SEE ALSO]
.BR systemctl (1),
.BR promtool (1),
.BR prometheus-alertmanager (1)
TXT
