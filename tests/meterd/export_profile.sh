#!/bin/sh
# meterd --export-profile: a simulated day of a 15-minute profile is 96 records, each with
# its end time, and the energy in the CSV adds up to the import register within a pulse.
#   export_profile.sh MeterD SOURCE_DIR OUT_DIR
set -eu
meterd="$1"; src="$2"; out="$3"
mkdir -p "$out"
"$meterd" --sku "$src/tests/meterd/profile-sku.toml" --site "$src/config/sites/plain-toronto.toml" \
  --simulate 1d --export-profile "$out/profile.csv" > "$out/report.txt"
head -1 "$out/profile.csv" | grep -qx 'sequence,end_utc,flags,1-0:1.8.0_pulses,1-0:2.8.0_pulses,1-0:1.8.0_wh,1-0:2.8.0_wh'
records=$(($(wc -l < "$out/profile.csv") - 1))
[ "$records" -eq 96 ] || { echo "expected 96 records, got $records"; exit 1; }
grep -q '^95,2026-03-02T05:00:00Z,' "$out/profile.csv" || { echo "last record does not end the day"; exit 1; }
register=$(grep -E '^  1-0:1\.8\.0 ' "$out/report.txt" | awk '{print $2}')
profile=$(awk -F, 'NR > 1 { sum += $6 } END { printf "%.1f", sum }' "$out/profile.csv")
# Kh 0.3 Wh: one pulse is 0.3 Wh; the open remainder is less than that.
awk -v r="$register" -v p="$profile" 'BEGIN { d = r - p; if (d < 0 || d > 0.31) { print "register " r " Wh, profile " p " Wh"; exit 1 } }'
echo "profile export: $records records, $profile Wh of $register Wh"
