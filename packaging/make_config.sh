#!/usr/bin/env bash
# Writes the packaged /etc/bootherd/bootherd.toml from the built binary's own `serve --help`, so every serve
# option is listed, commented out, with its default and its help text, and the file cannot fall behind the CLI.
# Usage: make_config.sh BOOTHERD_BINARY OUT
set -euo pipefail
bin=${1:?usage: make_config.sh BOOTHERD_BINARY OUT}
out=${2:?usage: make_config.sh BOOTHERD_BINARY OUT}
help=$("$bin" serve --help)
{
  cat <<'EOH'
# bootherd configuration, read by every bootherd command (`bootherd --config FILE` reads another one).
# Top-level keys apply to every subcommand; a [SUBCOMMAND] section (e.g. [serve], [node]) to that one only.
# Command-line options override this file. The lines commented out below are serve's defaults.

# Data directory: the catalog, the images and the nodes' disks (the service's StateDirectory).
data = "/var/lib/bootherd"

[serve]
EOH
  awk '
    function flush() {
      if (name == "") return
      print ""
      if (desc != "") print "# " desc
      print "# " name " = " value
      name = ""
    }
    function quote(v) { return (v ~ /^-?[0-9.]+$/) ? v : "\"" v "\"" }
    /^  --/ {
      flush()
      line = $0; sub(/^  /, "", line)
      split(line, parts, /  +/)
      spec = parts[1]; desc = parts[2]
      n = split(spec, w, " ")
      name = w[1]; sub(/^--/, "", name)
      if (name == "help" || name == "data") { name = ""; next }
      if (n == 1) { value = "false"; next }  # a flag
      type = w[2]
      if (type ~ /=/) {
        d = type; sub(/^[^=]*=/, "", d)
        if (d ~ /^\[.*\]$/) {  # a list default: [a,b]
          d = substr(d, 2, length(d) - 2); k = split(d, items, ","); value = "["
          for (i = 1; i <= k; i++) value = value (i > 1 ? ", " : "") quote(items[i])
          value = value "]"
        } else value = quote(d)
      } else if (w[3] == "...") value = "[]"
      else value = "(not set)"
      next
    }
    /^  +[^ -]/ && name != "" { t = $0; sub(/^ +/, "", t); desc = (desc == "" ? t : desc " " t); next }
    END { flush() }
  ' <<<"$help"
} >"$out"
