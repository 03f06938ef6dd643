// asidekv-admin: inspect an asidekv store, live through its admin socket or offline on its folder.
//
//   asidekv-admin --socket PATH COMMAND [ARGS]    the running Store (Options::admin_socket)
//   asidekv-admin --db DIR COMMAND [ARGS]         the RocksDB folder, opened by this process
//
// Run `asidekv-admin --help` for the commands, `asidekv-admin COMMAND --help` for one of them.
// Exit status: 0 success; 1 the operation failed (including a key not found, a store in use, a
// failed check); 2 usage error.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "admin/protocol.h"
#include "db/value_format.h"
#include "tools/admin/client.h"
#include "tools/admin/json_reader.h"
#include "tools/admin/offline.h"

namespace asidekv::admin {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kDbProperties[] = {
    "rocksdb.estimate-num-keys",       "rocksdb.total-sst-files-size",
    "rocksdb.live-sst-files-size",     "rocksdb.estimate-live-data-size",
    "rocksdb.cur-size-all-mem-tables", "rocksdb.num-live-versions",
};

struct CommandInfo {
  std::string_view name;
  std::string_view usage;
  std::string_view help;
  bool live;
  bool offline;
};

constexpr CommandInfo kCommandInfo[] = {
    {"ping", "ping", "Checks that the store answers.", true, false},
    {"stats", "stats",
     "Live: every Stats counter, per-shard cache stats, latency percentiles and RocksDB "
     "properties. Offline: RocksDB properties.",
     true, true},
    {"get", "get KEY",
     "The value of KEY. Live: reads the DB on a miss (and fills the cache), and says whether the "
     "value came from the cache and its TTL left.",
     true, true},
    {"peek", "peek KEY", "The cache entry of KEY, if any; never reads the DB.", true, false},
    {"invalidate", "invalidate KEY", "Drops the cache entry of KEY.", true, false},
    {"clear-cache", "clear-cache", "Drops every cache entry.", true, false},
    {"warm", "warm [PREFIX] LIMIT",
     "Fills the cache with up to LIMIT keys starting with PREFIX, read from the DB.", true, false},
    {"hot", "hot N", "The N hottest cached keys by the eviction policy.", true, false},
    {"config", "config", "The effective Options of the running store.", true, false},
    {"metrics", "metrics", "Prometheus text exposition of the store's metrics.", true, false},
    {"watch", "watch [--count N] [--interval-ms MS]",
     "A compact live view (hit ratio, ops/s, get p99, entries, bytes), refreshed every second "
     "until interrupted, or N times.",
     true, false},
    {"scan", "scan [--prefix P] [--limit N]", "Keys and values in key order.", false, true},
    {"count", "count [--prefix P]", "How many keys (with prefix P).", false, true},
    {"compact", "compact", "Compacts the whole key range (needs the folder not in use).", false,
     true},
    {"dump", "dump FILE",
     "Writes every pair to FILE (binary-safe format with a CRC-32; see tools/admin/offline.h).",
     false, true},
    {"load", "load FILE",
     "Verifies FILE, then writes its pairs into the store (created if missing; needs the folder "
     "not in use).",
     false, true},
    {"check", "check", "Opens the store and reads every key (scan and point read).", false, true},
};

struct Flags {
  std::string socket;
  std::string db;
  bool json = false;
  bool hex = false;
  bool help = false;
  std::string prefix;
  uint64_t limit = 0;
  uint64_t count = 0;
  int64_t interval_ms = 1000;
  std::vector<std::string> args;  // Command, then its arguments.
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: asidekv-admin (--socket PATH | --db DIR) [--json] [--hex] COMMAND [ARGS]\n"
               "       asidekv-admin COMMAND --help\n\n"
               "  --socket PATH  a running Store's admin socket (Options::admin_socket)\n"
               "  --db DIR       the store folder, opened by this process (read-only except\n"
               "                 compact and load)\n"
               "  --json         machine-readable output (JSON; scan prints JSON Lines)\n"
               "  --hex          keys given and keys/values printed in hex; otherwise\n"
               "                 non-printable bytes print as \\xNN\n\ncommands:\n");
  for (const CommandInfo& c : kCommandInfo) {
    std::fprintf(out, "  %-38.*s %s%s\n", static_cast<int>(c.usage.size()), c.usage.data(),
                 c.live ? "live" : "",
                 c.live && c.offline ? "+offline"
                 : c.offline         ? "offline"
                                     : "");
  }
  std::fprintf(out, "\nexit status: 0 success, 1 failure (e.g. key not found), 2 usage error\n");
}

const CommandInfo* FindCommand(std::string_view name) {
  for (const CommandInfo& c : kCommandInfo) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

int UsageError(std::string_view msg) {
  std::fprintf(stderr, "asidekv-admin: %.*s\nTry 'asidekv-admin --help'.\n",
               static_cast<int>(msg.size()), msg.data());
  return kExitUsage;
}

int Fail(std::string_view command, const absl::Status& s) {
  std::fprintf(stderr, "asidekv-admin: %.*s: %s\n", static_cast<int>(command.size()),
               command.data(), std::string(s.message()).c_str());
  return kExitFail;
}

std::optional<std::string> ParseFlags(int argc, char** argv, Flags* f) {
  bool positional_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (positional_only || a.size() < 2 || a[0] != '-' || (a[1] != '-' && a != "-h")) {
      f->args.emplace_back(a);
      continue;
    }
    if (a == "--") {
      positional_only = true;
      continue;
    }
    std::string_view name = a;
    std::optional<std::string_view> value;
    if (const size_t eq = a.find('='); eq != a.npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    auto take = [&]() -> std::optional<std::string_view> {
      if (value.has_value()) return value;
      if (i + 1 < argc) return std::string_view(argv[++i]);
      return std::nullopt;
    };
    auto number = [&](auto* out) -> bool {
      std::optional<std::string_view> v = take();
      return v.has_value() && absl::SimpleAtoi(absl::string_view(v->data(), v->size()), out);
    };
    if (name == "--json") {
      f->json = true;
    } else if (name == "--hex") {
      f->hex = true;
    } else if (name == "--help" || name == "-h") {
      f->help = true;
    } else if (name == "--socket" || name == "--db" || name == "--prefix") {
      std::optional<std::string_view> v = take();
      if (!v.has_value()) return absl::StrCat(std::string(name), " needs a value");
      (name == "--socket" ? f->socket : name == "--db" ? f->db : f->prefix) = std::string(*v);
    } else if (name == "--limit") {
      if (!number(&f->limit)) return std::string("--limit needs a number");
    } else if (name == "--count") {
      if (!number(&f->count)) return std::string("--count needs a number");
    } else if (name == "--interval-ms") {
      if (!number(&f->interval_ms) || f->interval_ms < 1) {
        return std::string("--interval-ms needs a positive number");
      }
    } else {
      return absl::StrCat("unknown option ", std::string(a));
    }
  }
  return std::nullopt;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// Bytes for a terminal: hex with --hex, else printable ASCII as is, '\' as "\\", and every other
// byte as \t, \n, \r or \xNN.
std::string Printable(std::string_view bytes, bool hex) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (hex) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xF]);
    } else if (b == '\\') {
      out.append("\\\\");
    } else if (b >= 0x20 && b < 0x7F) {
      out.push_back(c);
    } else if (b == '\n') {
      out.append("\\n");
    } else if (b == '\t') {
      out.append("\\t");
    } else if (b == '\r') {
      out.append("\\r");
    } else {
      out.append("\\x");
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xF]);
    }
  }
  return out;
}

// Human form of a response: one "path: value" line per scalar.
void PrintFlat(const JsonValue& v, const std::string& path, bool hex) {
  using Type = JsonValue::Type;
  switch (v.type) {
    case Type::kObject:
      for (size_t i = 0; i < v.keys.size(); ++i) {
        const std::string& name = v.keys[i];
        if (path.empty() && (name == "ok" || name == "command")) continue;
        PrintFlat(v.items[i], path.empty() ? name : absl::StrCat(path, ".", name), hex);
      }
      return;
    case Type::kArray:
      for (size_t i = 0; i < v.items.size(); ++i) {
        PrintFlat(v.items[i], absl::StrCat(path, "[", i, "]"), hex);
      }
      return;
    case Type::kString:
      std::printf("%s: %s\n", path.c_str(), Printable(v.text, hex).c_str());
      return;
    case Type::kBool:
      std::printf("%s: %s\n", path.c_str(), v.boolean ? "true" : "false");
      return;
    case Type::kNumber:
      std::printf("%s: %s\n", path.c_str(), v.text.c_str());
      return;
    case Type::kNull:
      std::printf("%s: -\n", path.c_str());
      return;
  }
}

uint64_t Num(const JsonValue* v) {
  uint64_t n = 0;
  if (v != nullptr && !absl::SimpleAtoi(v->text, &n)) n = 0;
  return n;
}
const JsonValue* Path(const JsonValue& v, std::string_view a, std::string_view b) {
  const JsonValue* x = v.Find(a);
  return x == nullptr ? nullptr : x->Find(b);
}

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }

int Watch(AdminClient& client, const Flags& f) {
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  const bool tty = isatty(STDOUT_FILENO) != 0 && !f.json;
  AdminRequest request;
  request.command = AdminCommand::kStats;
  uint64_t prev_ops = 0;
  absl::Time prev_time;
  const char* header = "  hit%      ops/s    get p99     entries        bytes";
  if (!tty && !f.json) std::printf("%s\n", header);
  for (uint64_t i = 0; f.count == 0 || i < f.count; ++i) {
    if (i > 0) {
      const absl::Time until = absl::Now() + absl::Milliseconds(f.interval_ms);
      while (!g_interrupted.load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(20));
    }
    if (g_interrupted.load()) break;
    absl::StatusOr<JsonValue> r = client.Call(request);
    if (!r.ok()) return Fail("watch", r.status());
    const absl::Time now = absl::Now();
    const uint64_t hits = Num(Path(*r, "stats", "cache_hits"));
    const uint64_t misses = Num(Path(*r, "stats", "cache_misses"));
    const uint64_t ops = hits + misses + Num(Path(*r, "stats", "puts")) +
                         Num(Path(*r, "stats", "deletes")) + Num(Path(*r, "stats", "batches"));
    const double hit = hits + misses > 0
                           ? 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses)
                           : 0.0;
    const double rate = i == 0 ? 0.0
                               : static_cast<double>(ops - prev_ops) /
                                     std::max(1e-9, absl::ToDoubleSeconds(now - prev_time));
    const JsonValue* latency = r->Find("latency");
    const uint64_t p99 = latency == nullptr ? 0 : Num(Path(*latency, "get", "p99_ns"));
    const uint64_t entries = Num(Path(*r, "stats", "cache_entries"));
    const uint64_t bytes = Num(Path(*r, "stats", "cache_bytes"));
    prev_ops = ops;
    prev_time = now;
    if (f.json) {
      std::printf(
          "{\"hit_ratio\":%.4f,\"ops_per_s\":%.1f,\"get_p99_ns\":%llu,\"entries\":%llu,"
          "\"bytes\":%llu}\n",
          hit / 100, rate, static_cast<unsigned long long>(p99),
          static_cast<unsigned long long>(entries), static_cast<unsigned long long>(bytes));
    } else {
      if (tty)
        std::printf("\033[H\033[2Jasidekv %s   (Ctrl-C to quit)\n%s\n", f.socket.c_str(), header);
      std::printf("%6.2f %10.0f %8.1fus %11llu %12llu\n", hit, rate,
                  static_cast<double>(p99) / 1000.0, static_cast<unsigned long long>(entries),
                  static_cast<unsigned long long>(bytes));
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

absl::StatusOr<std::string> KeyArg(const Flags& f, size_t i) {
  if (!f.hex) return f.args[i];
  std::optional<std::string> k = HexDecode(f.args[i]);
  if (!k.has_value()) return absl::InvalidArgumentError("KEY is not valid hex");
  return *k;
}

int RunLive(const CommandInfo& c, const Flags& f) {
  absl::StatusOr<std::unique_ptr<AdminClient>> client = AdminClient::Connect(f.socket);
  if (!client.ok()) return Fail(c.name, client.status());
  if (c.name == "watch") return Watch(**client, f);
  // The request line: the command with its arguments, percent-encoded.
  std::string line(c.name);
  for (size_t i = 1; i < f.args.size(); ++i) {
    std::string arg = f.args[i];
    const bool is_key = c.name == "get" || c.name == "peek" || c.name == "invalidate" ||
                        (c.name == "warm" && f.args.size() == 3 && i == 1);
    if (is_key) {
      absl::StatusOr<std::string> k = KeyArg(f, i);
      if (!k.ok()) return UsageError(std::string(k.status().message()));
      arg = *k;
    }
    absl::StrAppend(&line, " ", PercentEncode(arg));
  }
  if (absl::StatusOr<AdminRequest> r = ParseAdminRequest(line); !r.ok()) {
    return UsageError(absl::StrCat(std::string(c.name), ": ", r.status().message()));
  }
  absl::StatusOr<std::string> raw = (*client)->CallRaw(line);
  if (!raw.ok()) return Fail(c.name, raw.status());
  absl::StatusOr<JsonValue> v = ParseJson(*raw);
  if (!v.ok()) return Fail(c.name, v.status());
  if (absl::Status s = AdminResponseStatus(*v); !s.ok()) return Fail(c.name, s);
  if (f.json) {
    std::printf("%s\n", raw->c_str());
  } else if (c.name == "metrics" && v->Find("text") != nullptr) {
    std::fputs(v->Find("text")->text.c_str(), stdout);
  } else if (c.name == "hot" && v->Find("keys") != nullptr) {
    for (const JsonValue& k : v->Find("keys")->items) {
      std::printf("%s\n", Printable(k.text, f.hex).c_str());
    }
  } else {
    PrintFlat(*v, "", f.hex);
  }
  if (c.name == "get" || c.name == "peek") {
    const JsonValue* found = v->Find("found");
    if (found == nullptr || !found->boolean) {
      if (!f.json) std::fprintf(stderr, "asidekv-admin: %s: key not found\n", c.name.data());
      return kExitFail;
    }
  }
  return kExitOk;
}

void PrintRecordJson(const Record& r) {
  util::JsonWriter json;
  json.BeginObject();
  json.Field("key", r.key);
  json.Field("value", r.value);
  if (r.ttl.has_value()) json.Field("ttl_ms", uint64_t(absl::ToInt64Milliseconds(*r.ttl)));
  json.EndObject();
  std::printf("%s\n", json.Take().c_str());
}

int RunOffline(const CommandInfo& c, const Flags& f) {
  const std::string_view cmd = c.name;
  const bool writable = cmd == "compact" || cmd == "load";
  absl::StatusOr<std::unique_ptr<db::RocksDb>> opened = OpenOffline(f.db, writable, cmd == "load");
  if (!opened.ok()) return Fail(cmd, opened.status());
  db::RocksDb& db = **opened;
  util::JsonWriter json;
  json.BeginObject();
  if (cmd == "get") {
    absl::StatusOr<std::string> key = KeyArg(f, 1);
    if (!key.ok()) return UsageError(std::string(key.status().message()));
    absl::StatusOr<std::string> stored = db.Get(*key);
    if (absl::IsNotFound(stored.status())) {
      std::fprintf(stderr, "asidekv-admin: get: key not found\n");
      return kExitFail;
    }
    if (!stored.ok()) return Fail(cmd, stored.status());
    absl::StatusOr<db::DecodedValue> d = db::DecodeValue(*stored, db.value_encoding());
    if (!d.ok()) return Fail(cmd, d.status());
    if (f.json) {
      PrintRecordJson(Record{*key, d->value, d->ttl});
    } else {
      std::printf("%s\n", Printable(d->value, f.hex).c_str());
    }
    return kExitOk;
  }
  if (cmd == "scan" || cmd == "count") {
    uint64_t n = 0;
    const bool print = cmd == "scan";
    absl::Status s = ScanRecords(db, f.prefix, print ? f.limit : 0, [&](const Record& r) {
      ++n;
      if (print && f.json) {
        PrintRecordJson(r);
      } else if (print) {
        std::printf("%s\t%s\n", Printable(r.key, f.hex).c_str(), Printable(r.value, f.hex).c_str());
      }
      return true;
    });
    if (!s.ok()) return Fail(cmd, s);
    if (cmd == "count") {
      if (f.json) {
        json.Field("count", n);
      } else {
        std::printf("%llu\n", static_cast<unsigned long long>(n));
      }
    }
  } else if (cmd == "stats") {
    for (std::string_view p : kDbProperties) {
      absl::StatusOr<uint64_t> v = db.GetIntProperty(p);
      if (!v.ok()) continue;
      if (f.json) {
        json.Field(p, *v);
      } else {
        std::printf("%.*s: %llu\n", static_cast<int>(p.size()), p.data(),
                    static_cast<unsigned long long>(*v));
      }
    }
  } else if (cmd == "compact") {
    absl::Status s = db.CompactAll();
    if (!s.ok()) return Fail(cmd, s);
  } else if (cmd == "dump" || cmd == "load") {
    absl::StatusOr<uint64_t> n = cmd == "dump" ? Dump(db, f.args[1]) : Load(db, f.args[1]);
    if (!n.ok()) return Fail(cmd, n.status());
    if (f.json) {
      json.Field("records", *n);
    } else {
      std::printf("%s %llu records\n", cmd == "dump" ? "dumped" : "loaded",
                  static_cast<unsigned long long>(*n));
    }
  } else if (cmd == "check") {
    absl::StatusOr<CheckReport> r = Check(db);
    if (!r.ok()) return Fail(cmd, r.status());
    const bool ok = r->corrupt_values == 0 && r->read_errors == 0;
    if (f.json) {
      json.Field("ok", ok);
      json.Field("keys", r->keys);
      json.Field("corrupt_values", r->corrupt_values);
      json.Field("read_errors", r->read_errors);
      json.Field("first_problem", r->first_problem);
    } else {
      std::printf("keys: %llu\ncorrupt_values: %llu\nread_errors: %llu\n",
                  static_cast<unsigned long long>(r->keys),
                  static_cast<unsigned long long>(r->corrupt_values),
                  static_cast<unsigned long long>(r->read_errors));
    }
    if (!ok) {
      std::fprintf(stderr, "asidekv-admin: check: %s\n", r->first_problem.c_str());
      if (f.json) std::printf("%s\n", (json.EndObject(), json.Take()).c_str());
      return kExitFail;
    }
  }
  json.EndObject();
  if (f.json && cmd != "scan") std::printf("%s\n", json.Take().c_str());
  return kExitOk;
}

size_t ArgCount(std::string_view cmd, bool* variable) {
  *variable = cmd == "warm";
  if (cmd == "get" || cmd == "peek" || cmd == "invalidate" || cmd == "hot" || cmd == "dump" ||
      cmd == "load" || cmd == "warm") {
    return 1;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Flags f;
  if (std::optional<std::string> err = ParseFlags(argc, argv, &f); err.has_value()) {
    return UsageError(*err);
  }
  if (f.args.empty() || f.args[0] == "help") {
    PrintUsage(f.help || !f.args.empty() ? stdout : stderr);
    return f.help || !f.args.empty() ? kExitOk : kExitUsage;
  }
  const CommandInfo* c = FindCommand(f.args[0]);
  if (c == nullptr) return UsageError(absl::StrCat("unknown command '", f.args[0], "'"));
  if (f.help) {
    std::printf("usage: asidekv-admin %s%s%s\n\n%.*s\n", c->live ? "--socket PATH " : "",
                c->live && c->offline ? "| --db DIR "
                : c->offline          ? "--db DIR "
                                      : "",
                std::string(c->usage).c_str(), static_cast<int>(c->help.size()), c->help.data());
    return kExitOk;
  }
  bool variable = false;
  const size_t want = ArgCount(c->name, &variable);
  const size_t got = f.args.size() - 1;
  if (got < want || got > want + (variable ? 1 : 0)) {
    return UsageError(absl::StrCat("usage: asidekv-admin ", std::string(c->usage)));
  }
  if (f.socket.empty() == f.db.empty()) return UsageError("give exactly one of --socket and --db");
  if (!f.socket.empty()) {
    if (!c->live) {
      return UsageError(absl::StrCat(f.args[0], " works offline only (--db DIR)"));
    }
    return RunLive(*c, f);
  }
  if (!c->offline) return UsageError(absl::StrCat(f.args[0], " needs a live store (--socket)"));
  return RunOffline(*c, f);
}

}  // namespace
}  // namespace asidekv::admin

int main(int argc, char** argv) { return asidekv::admin::Main(argc, argv); }
