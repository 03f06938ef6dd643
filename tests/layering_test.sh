#!/usr/bin/env bash
# Checks the module boundaries of STYLE.md by reading #include lines:
#   cache/  includes no db/, core/ or RocksDB header;
#   db/     includes no cache/ or core/ header, and only db/*.cc include RocksDB;
#   core/include/asidekv/ (public) includes only Abseil, the standard library and asidekv/;
#   core/   includes no RocksDB header;
#   cache/, core/, db/ never read the wall clock: expiry, timeouts and latencies follow the
#   monotonic clock (cache/clock.h), so a wall-clock step changes none of them.
set -u
root=${1:?usage: layering_test.sh REPO_ROOT}
cd "$root" || exit 2
fail=0
bad() { echo "layering: $*"; fail=1; }

while IFS= read -r line; do bad "cache/ must not include: $line"; done < <(
  grep -nE '^#include +[<"](db/|core/|asidekv/|rocksdb/)' cache/*.h cache/*.cc)
while IFS= read -r line; do bad "db/ must not include: $line"; done < <(
  grep -nE '^#include +[<"](cache/|core/|asidekv/)' db/*.h db/*.cc)
while IFS= read -r line; do bad "db/ headers must hide RocksDB: $line"; done < <(
  grep -nE '^#include +[<"]rocksdb/' db/*.h | grep -v '^db/status_conversion.h:')
while IFS= read -r line; do bad "core/ must not include RocksDB: $line"; done < <(
  grep -rnE '^#include +[<"]rocksdb/' core)
while IFS= read -r line; do bad "public headers may include only Abseil, std and asidekv/: $line"; done < <(
  grep -nE '^#include +"' core/include/asidekv/*.h | grep -vE '#include +"(absl|asidekv)/')
while IFS= read -r line; do bad "use cache/clock.h, not the wall clock: $line"; done < <(
  grep -nE 'absl::Now\(|GetCurrentTimeNanos|system_clock|gettimeofday|CLOCK_REALTIME' \
    cache/*.h cache/*.cc core/*.h core/*.cc db/*.h db/*.cc)
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
