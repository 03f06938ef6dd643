#include "tools/admin/offline.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "db/value_format.h"
#include "util/string_view.h"
#include "db/formats.h"

namespace asidekv::admin {
namespace {

constexpr std::string_view kMagic = db::kDumpMagic;
constexpr size_t kLoadBatch = 1000;

void PutFixed(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Streams a dump file in, keeping the running CRC of what it consumed.
class DumpReader {
 public:
  explicit DumpReader(std::ifstream* in) : in_(in) {}

  bool Read(size_t n, std::string* out) {
    out->resize(n);
    if (n > 0 && !in_->read(out->data(), static_cast<std::streamsize>(n))) return false;
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(out->data()), n);
    return true;
  }
  bool Fixed(int bytes, uint64_t* v) {
    if (!Read(static_cast<size_t>(bytes), &scratch_)) return false;
    *v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
      *v = (*v << 8) | static_cast<unsigned char>(scratch_[static_cast<size_t>(i)]);
    }
    return true;
  }
  uLong crc() const { return crc_; }

 private:
  std::ifstream* in_;
  uLong crc_ = crc32_z(0, nullptr, 0);
  std::string scratch_;
};

// Reads the whole dump, calling fn for each record (ttl_nanos < 0: none). DataLoss on any
// structural problem, a wrong count or a wrong checksum.
absl::StatusOr<uint64_t> ReadDump(const std::string& file,
                                  absl::FunctionRef<absl::Status(std::string_view, std::string_view,
                                                                 std::optional<absl::Duration>)>
                                      fn) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", file));
  auto bad = [&file](std::string_view why) {
    return absl::DataLossError(absl::StrCat(file, ": not a valid dump: ", util::ToAbsl(why)));
  };
  DumpReader r(&in);
  std::string magic, key, value, tag;
  if (!r.Read(kMagic.size(), &magic) || magic != kMagic) return bad("bad magic");
  uint64_t count = 0;
  while (true) {
    if (!r.Read(1, &tag)) return bad("truncated (no trailer)");
    if (tag == "E") break;
    if (tag != "R") return bad(absl::StrCat("bad record tag at record ", count));
    uint64_t key_len = 0, value_len = 0, has_ttl = 0, ttl = 0;
    if (!r.Fixed(4, &key_len) || !r.Read(key_len, &key) || !r.Fixed(4, &value_len) ||
        !r.Read(value_len, &value) || !r.Fixed(1, &has_ttl) || has_ttl > 1 ||
        (has_ttl == 1 && !r.Fixed(8, &ttl))) {
      return bad(absl::StrCat("truncated or malformed record ", count));
    }
    std::optional<absl::Duration> d;
    if (has_ttl == 1) d = absl::Nanoseconds(static_cast<int64_t>(ttl));
    absl::Status s = fn(key, value, d);
    if (!s.ok()) return s;
    ++count;
  }
  uint64_t stated = 0;
  if (!r.Fixed(8, &stated)) return bad("truncated trailer");
  if (stated != count) return bad(absl::StrCat("trailer says ", stated, " records, found ", count));
  const uLong crc = r.crc();
  uint64_t stored_crc = 0;
  if (!r.Fixed(4, &stored_crc)) return bad("truncated checksum");
  if (stored_crc != crc) return bad("checksum mismatch");
  if (in.peek() != std::ifstream::traits_type::eof()) return bad("bytes after the trailer");
  return count;
}

}  // namespace

absl::StatusOr<std::unique_ptr<db::RocksDb>> OpenOffline(const std::string& dir, bool writable,
                                                         bool create) {
  db::DbOptions o;
  o.read_only = !writable;
  o.create_if_missing = writable && create;
  o.value_encoding = std::nullopt;  // Whichever the folder's format marker records.
  absl::StatusOr<std::unique_ptr<db::RocksDb>> db = db::RocksDb::Open(dir, o);
  // A folder whose format marker refuses the open: that error, not "in use".
  if (absl::IsFailedPrecondition(db.status()) &&
      db::CheckFormatMarker(dir, std::nullopt, /*writable=*/false, dir).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir,
                     " is in use by another process (stop it, or use --socket on its admin "
                     "endpoint): ",
                     db.status().message()));
  }
  if (absl::IsNotFound(db.status())) {
    return absl::NotFoundError(
        absl::StrCat("no asidekv store at ", dir, ": ", db.status().message()));
  }
  return db;
}

absl::Status ScanRecords(const db::RocksDb& db, const std::string& prefix, uint64_t limit,
                         absl::FunctionRef<bool(const Record&)> fn) {
  db::ScanSpec spec;
  spec.prefix = prefix;
  spec.limit = static_cast<size_t>(limit);
  absl::Status decode_error;
  absl::Status s = db.Scan(spec, [&](std::string_view key, std::string_view stored) {
    absl::StatusOr<db::DecodedValue> d = db::DecodeValue(stored, db.value_encoding());
    if (!d.ok()) {
      decode_error = absl::DataLossError(
          absl::StrCat("corrupt value header for a key of ", key.size(), " bytes"));
      return false;
    }
    return fn(Record{key, d->value, d->ttl});
  });
  if (!s.ok()) return s;
  return decode_error;
}

absl::StatusOr<uint64_t> Dump(const db::RocksDb& db, const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create ", file, ": ", std::strerror(errno)));
  }
  uLong crc = crc32_z(0, nullptr, 0);
  bool write_ok = true;
  auto emit = [&](const std::string& bytes) {
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size());
    write_ok = write_ok && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  };
  emit(std::string(kMagic));
  uint64_t count = 0;
  std::string rec;
  absl::Status s = ScanRecords(db, "", 0, [&](const Record& r) {
    rec.clear();
    rec.push_back('R');
    PutFixed(r.key.size(), 4, &rec);
    rec.append(r.key);
    PutFixed(r.value.size(), 4, &rec);
    rec.append(r.value);
    rec.push_back(r.ttl.has_value() ? 1 : 0);
    if (r.ttl.has_value()) {
      PutFixed(static_cast<uint64_t>(absl::ToInt64Nanoseconds(*r.ttl)), 8, &rec);
    }
    emit(rec);
    ++count;
    return write_ok;
  });
  rec.clear();  // (Not assign("E"): g++ 12 -O3 gives a false -Wrestrict on it.)
  rec.push_back('E');
  PutFixed(count, 8, &rec);
  emit(rec);
  rec.clear();
  PutFixed(crc, 4, &rec);
  write_ok = write_ok && std::fwrite(rec.data(), 1, rec.size(), f) == rec.size();
  write_ok = std::fclose(f) == 0 && write_ok;
  if (!s.ok()) return s;
  if (!write_ok) return absl::UnavailableError(absl::StrCat("write to ", file, " failed"));
  return count;
}

absl::StatusOr<uint64_t> Load(db::RocksDb& db, const std::string& file) {
  // Pass 1: verify everything, write nothing.
  absl::StatusOr<uint64_t> verified =
      ReadDump(file, [&db](std::string_view, std::string_view, std::optional<absl::Duration> ttl) {
        if (ttl.has_value() && *ttl <= absl::ZeroDuration()) {
          return absl::DataLossError("non-positive TTL in dump");
        }
        if (ttl.has_value() && db.value_encoding() == db::ValueEncoding::kRaw) {
          return absl::FailedPreconditionError(
              "the dump has per-key TTLs, which a store of raw values cannot keep");
        }
        return absl::OkStatus();
      });
  if (!verified.ok()) return verified.status();
  // Pass 2: write in batches.
  std::vector<std::string> keys, values;
  auto flush = [&]() -> absl::Status {
    std::vector<db::WriteOp> ops(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      ops[i].type = db::WriteOp::kPut;
      ops[i].key = keys[i];
      ops[i].value = values[i];
    }
    absl::Status s = db.Write(ops, db::WriteOptions());
    keys.clear();
    values.clear();
    return s;
  };
  absl::StatusOr<uint64_t> n = ReadDump(
      file, [&](std::string_view key, std::string_view value, std::optional<absl::Duration> ttl) {
        keys.emplace_back(key);
        values.emplace_back();
        db::EncodeValue(value, ttl, db.value_encoding(), &values.back());
        return keys.size() >= kLoadBatch ? flush() : absl::OkStatus();
      });
  if (!n.ok()) return n.status();
  absl::Status s = flush();
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<CheckReport> Check(const db::RocksDb& db) {
  CheckReport report;
  auto problem = [&report](uint64_t* counter, std::string what) {
    ++*counter;
    if (report.first_problem.empty()) report.first_problem = std::move(what);
  };
  // Scan a batch, then point-read it outside the scan (no DB call inside a Scan callback).
  db::ScanSpec spec;
  spec.limit = kLoadBatch;
  std::vector<std::pair<std::string, std::string>> batch;
  while (true) {
    batch.clear();
    absl::Status s = db.Scan(spec, [&batch](std::string_view key, std::string_view stored) {
      batch.emplace_back(key, stored);
      return true;
    });
    if (!s.ok()) return s;
    for (const auto& [key, stored] : batch) {
      ++report.keys;
      if (!db::DecodeValue(stored, db.value_encoding()).ok()) {
        problem(&report.corrupt_values, absl::StrCat("corrupt value header at key #", report.keys));
      }
      absl::StatusOr<std::string> again = db.Get(key);
      if (!again.ok()) {
        problem(&report.read_errors,
                absl::StrCat("point read of key #", report.keys, ": ", again.status().ToString()));
      } else if (*again != stored) {
        problem(&report.read_errors,
                absl::StrCat("point read of key #", report.keys, " disagrees with the scan"));
      }
    }
    if (batch.size() < spec.limit) return report;
    spec.start = batch.back().first;
    spec.start.push_back('\0');  // The next key after the last one read.
  }
}

}  // namespace asidekv::admin
