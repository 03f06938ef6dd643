#!/usr/bin/env bash
# Checks the module boundaries of STYLE.md by reading #include lines, in every folder:
#   util/   includes only Abseil, the standard library and util/;
#   cache/  includes no db/, core/, admin/, asidekv/ or RocksDB header;
#   db/     includes no cache/, core/, admin/ or asidekv/ header but the interface it implements
#           (asidekv/database.h), and only db/*.cc include RocksDB; db/postgres/ follows the same
#           rules, and only db/postgres/*.cc include libpq (libpq-fe.h), nothing else does but
#           the bench's PostgreSQL baseline (tools/bench/postgres_backend.cc);
#   remote/ includes no db/, core/, cache/, admin/ or asidekv/ header and no RocksDB or libpq;
#           only remote/*.cc include hiredis, besides two baselines: the Redis tier benchmark's
#           plain GET (tools/bench_remote/*.cc) and asidekv-bench's redis-aside, the
#           cache-aside users write by hand (tools/bench/redis_aside_backend.cc, that file only);
#   core/include/asidekv/ and admin/include/asidekv/ (public) include only Abseil, std, asidekv/;
#   core/   includes no admin/ and no RocksDB header;
#   admin/  uses the core only through its declared internal interface (core/introspection.h,
#           core/options_fields.h, core/log.h) and never cache/, db/ or RocksDB; only the HTTP
#           metrics server's .cc includes libmicrohttpd (<microhttpd.h>), no header and no other
#           folder does;
#   tools/  use the public API, a module's declared interface, or RocksDB (libpq) directly only
#           in the bench's baseline backends: asidekv-admin (protocol, db/ for offline commands),
#           asidekv-bench (public API, util/), the cache micro-benchmarks and trace replay (cache/),
#           the Redis tier's benchmark (public API; hiredis for its plain-GET baseline only),
#           asidekv-bench's redis-aside baseline (hiredis, in redis_aside_backend.cc only);
#   cache/, core/, db/, remote/, admin/ never read the wall clock: expiry, timeouts and latencies follow the
#   monotonic clock (util/monotonic_clock.h), so a wall-clock step changes none of them.
set -u
root=${1:?usage: layering_test.sh REPO_ROOT}
cd "$root" || exit 2
fail=0
bad() { echo "layering: $*"; fail=1; }
# includes FILES...: the quoted #include lines of FILES, as FILE:LINE:TEXT.
includes() { grep -nE '^#include +"' "$@" /dev/null; }

while IFS= read -r line; do bad "util/ must include only Abseil and util/: $line"; done < <(
  includes util/*.h util/*.cc | grep -vE '#include +"(absl|util)/')
while IFS= read -r line; do bad "cache/ must not include: $line"; done < <(
  grep -nE '^#include +[<"](db/|core/|admin/|asidekv/|rocksdb/)' cache/*.h cache/*.cc)
while IFS= read -r line; do bad "db/ must not include: $line"; done < <(
  grep -nE '^#include +[<"]rocksdb/' db/postgres/*.h db/postgres/*.cc
  grep -nE '^#include +[<"](cache/|core/|admin/|asidekv/)' db/*.h db/*.cc db/postgres/*.h \
    db/postgres/*.cc | grep -vE '#include +"asidekv/database\.h"')
while IFS= read -r line; do bad "only db/postgres/*.cc (and the bench's baseline) may include libpq: $line"; done < <(
  grep -rnE '^#include +[<"](libpq-fe|libpq/|postgresql/|pg_config)' --include='*.h' \
    --include='*.cc' --include='*.cpp' . | grep -vE '^\./db/postgres/[a-z_]+\.cc:' |
    grep -vE '^\./tools/bench/postgres_backend\.cc:' | grep -vE '^\./build/')
while IFS= read -r line; do bad "remote/ must not include: $line"; done < <(
  grep -nE '^#include +[<"](db/|core/|cache/|admin/|asidekv/|rocksdb/|libpq-fe|postgresql/)' \
    remote/*.h remote/*.cc)
while IFS= read -r line; do bad "db/ headers must hide RocksDB: $line"; done < <(
  grep -nE '^#include +[<"]rocksdb/' db/*.h | grep -v '^db/status_conversion.h:')
while IFS= read -r line; do bad "core/ must not include RocksDB or admin/: $line"; done < <(
  grep -rnE '^#include +[<"](rocksdb|admin)/' core)
while IFS= read -r line; do bad "public headers may include only Abseil, std and asidekv/: $line"; done < <(
  includes core/include/asidekv/*.h admin/include/asidekv/*.h | grep -vE '#include +"(absl|asidekv)/')
while IFS= read -r line; do bad "admin/ may use only the core's declared interface: $line"; done < <(
  includes admin/*.h admin/*.cc |
    grep -vE '#include +"(absl|asidekv|util|admin)/|#include +"core/(introspection|options_fields|log)\.h"')
while IFS= read -r line; do bad "only admin/metrics_http_server.cc may include libmicrohttpd: $line"; done < <(
  grep -rnE '^#include +[<"]microhttpd\.h[>"]' --include='*.h' --include='*.cc' \
    util cache db core admin tools tests | grep -v '^admin/metrics_http_server\.cc:')
while IFS= read -r line; do bad "asidekv-admin reaches into a module: $line"; done < <(
  includes tools/admin/*.h tools/admin/*.cc |
    grep -vE '#include +"(absl|asidekv|util|tools/admin)/|#include +"(admin/protocol|db/rocks_db|db/value_format|db/format_marker|db/formats)\.h"')
while IFS= read -r line; do bad "asidekv-bench uses the public API and util/: $line"; done < <(
  includes tools/bench/*.h tools/bench/*.cc |
    grep -vE '#include +"(absl|asidekv|util|tools/bench|tools/trace)/' |
    grep -vE '^tools/bench/(rocksdb_backend\.(h|cc)|machine_info\.cc):[0-9]+:#include +"rocksdb/')
while IFS= read -r line; do bad "the cache tools link cache/ only: $line"; done < <(
  includes tools/bench_cache/*.h tools/bench_cache/*.cc tools/trace/*.h tools/trace/*.cc |
    grep -vE '#include +"(absl|util|cache|tools/bench_cache|tools/trace|benchmark)/')
while IFS= read -r line; do bad "the examples and the metrics benchmark use the public API only: $line"; done < <(
  includes tools/example.cc tools/example_database.cc tools/bench_metrics/*.cc |
    grep -vE '#include +"(absl|asidekv)/')
while IFS= read -r line; do bad "the Redis tier's benchmark uses the public API (hiredis only for its baseline): $line"; done < <(
  includes tools/bench_remote/*.cc | grep -vE '#include +"(absl|asidekv|benchmark)/')
while IFS= read -r line; do bad "only remote/*.cc and the two Redis baselines may include hiredis: $line"; done < <(
  grep -rnE '^#include +[<"](hiredis/|hiredis\.h|adapters/)' --include='*.h' --include='*.cc' \
    util cache db core admin tools remote tests |
    grep -vE '^(remote/[a-z_]+\.cc|tools/bench_remote/[a-z_]+\.cc|tools/bench/redis_aside_backend\.cc):')
while IFS= read -r line; do bad "use util/monotonic_clock.h, not the wall clock: $line"; done < <(
  grep -nE 'absl::Now\(|GetCurrentTimeNanos|system_clock|gettimeofday|CLOCK_REALTIME' \
    cache/*.h cache/*.cc core/*.h core/*.cc db/*.h db/*.cc db/postgres/*.h db/postgres/*.cc \
    remote/*.h remote/*.cc admin/*.h admin/*.cc)
while IFS= read -r line; do bad "installed headers name no internal type: $line"; done < <(
  grep -nE '\b(Impl|StoreOpener|StoreImpl)\b|\b(core|cache|db|util)::' \
    core/include/asidekv/*.h admin/include/asidekv/*.h | grep -vE ':[0-9]+: *//')
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
