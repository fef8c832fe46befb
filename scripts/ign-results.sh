#!/usr/bin/env bash
# Copies the small outputs of IGN runs into docs/results/ign/ (for docs/results/ign.md) and
# summarises each run's losses.csv:
#
#   scripts/ign-results.sh RUN_DIR NAME     RUN_DIR/losses.csv -> docs/results/ign/NAME/losses.csv,
#                                           the last samples_epochNNN.png, and a row in
#                                           docs/results/ign/losses-summary.csv
#
# losses-summary.csv: per run, the steps logged and the means of rec_l1, idem_mse and tight_mse
# over the first and the last 50 logged steps (all steps when fewer than 50).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 RUN_DIR NAME" >&2; exit 2; }
run=$1 name=$2
[ -f "$run/losses.csv" ] || { echo "no $run/losses.csv" >&2; exit 1; }
dest=docs/results/ign/$name
mkdir -p "$dest"
cp "$run/losses.csv" "$dest/losses.csv"
last=$(ls "$run"/samples_epoch*.png 2>/dev/null | sort | tail -n1 || true)
[ -n "$last" ] && cp "$last" "$dest/"
summary=docs/results/ign/losses-summary.csv
header="run,steps,rec_l1_first50,rec_l1_last50,idem_mse_first50,idem_mse_last50,tight_mse_first50,tight_mse_last50"
[ -f "$summary" ] || echo "$header" > "$summary"
row=$(awk -F, -v name="$name" '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { n++; rec[n] = $col["rec_l1"]; idem[n] = $col["idem_mse"]; tight[n] = $col["tight_mse"] }
  function mean(a, from, to,   s, i) { s = 0; for (i = from; i <= to; i++) s += a[i]; return s / (to - from + 1) }
  END {
    k = n < 50 ? n : 50
    printf "%s,%d,%.4f,%.4f,%.4g,%.4g,%.4g,%.4g\n", name, n, mean(rec, 1, k), mean(rec, n - k + 1, n),
      mean(idem, 1, k), mean(idem, n - k + 1, n), mean(tight, 1, k), mean(tight, n - k + 1, n)
  }' "$run/losses.csv")
grep -v "^$name," "$summary" > "$summary.tmp" || true
echo "$row" >> "$summary.tmp"
mv "$summary.tmp" "$summary"
echo "$row"
