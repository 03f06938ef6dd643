#include "tests/distributed/history.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "util/crc32c.h"
#include "util/string_view.h"

namespace asidekv::distributed {
namespace {

constexpr std::string_view kHeader = "asidekv-history 1";

template <typename T>
bool Atoi(std::string_view s, T* v) {
  return absl::SimpleAtoi(util::ToAbsl(s), v);
}

bool Plain(char c) { return c >= '!' && c <= '~' && c != '%'; }

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (Plain(c)) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unescape(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (!Plain(s[i]) && s[i] != '%') return false;
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    const int hi = i + 1 < s.size() ? HexDigit(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string EncodeValue(const std::optional<std::string>& v) {
  return v.has_value() ? absl::StrCat("=", Escape(*v)) : "-";
}

bool DecodeValue(std::string_view s, std::optional<std::string>* v) {
  if (s == "-") {
    v->reset();
    return true;
  }
  if (s.empty() || s[0] != '=') return false;
  std::string bytes;
  if (!Unescape(s.substr(1), &bytes)) return false;
  *v = std::move(bytes);
  return true;
}

bool ParseKind(std::string_view s, OpKind* kind) {
  for (OpKind k :
       {OpKind::kPut, OpKind::kDelete, OpKind::kBatch, OpKind::kGet, OpKind::kFinalRead}) {
    if (s == OpKindName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

// The fields of a record line after its checksum.
std::string EncodeFields(const Operation& op) {
  std::string out = absl::StrCat(
      op.process, " ", op.thread, " ", util::ToAbsl(OpKindName(op.kind)), " ", op.invoke_nanos, " ",
      op.complete_nanos, " ", static_cast<int>(op.status.code()), " ",
      op.status.ok() ? "." : Escape(util::FromAbsl(op.status.message())), " ", op.keys.size());
  for (const KeyValueOp& kv : op.keys) {
    absl::StrAppend(&out, " ", Escape(kv.key), " ", EncodeValue(kv.value));
  }
  return out;
}

absl::Status Malformed(std::string_view why) {
  return absl::DataLossError(absl::StrCat("history record: ", util::ToAbsl(why)));
}

}  // namespace

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kPut:
      return "put";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kBatch:
      return "batch";
    case OpKind::kGet:
      return "get";
    case OpKind::kFinalRead:
      return "final";
  }
  return "?";
}

std::string UniqueValue(std::string_view key, int process, int thread, uint64_t counter,
                        size_t size) {
  std::string v = absl::StrCat(util::ToAbsl(key), "=", process, ".", thread, ".", counter);
  if (v.size() < size) v.resize(size, '.');
  return v;
}

std::string Describe(const Operation& op, int64_t origin_nanos) {
  std::string out = absl::StrCat("process ", op.process, " thread ", op.thread, " ",
                                 util::ToAbsl(OpKindName(op.kind)));
  for (const KeyValueOp& kv : op.keys) {
    absl::StrAppend(&out, " ", kv.key,
                    kv.value.has_value() ? absl::StrCat(" = \"", *kv.value, "\"")
                                         : std::string(IsWrite(op.kind) ? " (delete)" : " absent"));
  }
  absl::StrAppendFormat(&out, " [%.3f ms, %.3f ms]", (op.invoke_nanos - origin_nanos) / 1e6,
                        (op.complete_nanos - origin_nanos) / 1e6);
  if (!op.status.ok()) absl::StrAppend(&out, " failed: ", op.status.ToString());
  return out;
}

std::string EncodeOperation(const Operation& op) {
  const std::string fields = EncodeFields(op);
  return absl::StrFormat("op %08x %s", util::Crc32c(fields), fields);
}

absl::StatusOr<Operation> DecodeOperation(std::string_view line) {
  if (line.size() < 13 || line.substr(0, 3) != "op " || line[11] != ' ') {
    return Malformed("not an op line");
  }
  uint32_t crc = 0;
  if (!absl::SimpleHexAtoi(util::ToAbsl(line.substr(3, 8)), &crc))
    return Malformed("bad checksum field");
  const std::string_view fields = line.substr(12);
  if (util::Crc32c(fields) != crc) return Malformed("checksum mismatch");
  std::vector<std::string_view> f;
  for (absl::string_view part : absl::StrSplit(util::ToAbsl(fields), ' ')) {
    f.push_back(util::FromAbsl(part));
  }
  Operation op;
  int code = 0;
  size_t n = 0;
  if (f.size() < 8 || !Atoi(f[0], &op.process) || !Atoi(f[1], &op.thread) ||
      !ParseKind(f[2], &op.kind) || !Atoi(f[3], &op.invoke_nanos) ||
      !Atoi(f[4], &op.complete_nanos) || !Atoi(f[5], &code) || !Atoi(f[7], &n) ||
      f.size() != 8 + 2 * n) {
    return Malformed("bad fields");
  }
  if (code != 0) {
    std::string message;
    if (!Unescape(f[6], &message)) return Malformed("bad status message");
    op.status = absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  op.keys.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!Unescape(f[8 + 2 * i], &op.keys[i].key) || !DecodeValue(f[9 + 2 * i], &op.keys[i].value)) {
      return Malformed("bad key or value");
    }
  }
  return op;
}

absl::StatusOr<HistoryWriter> HistoryWriter::Create(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  HistoryWriter writer(file, path);
  if (std::fprintf(file, "%s\n", std::string(kHeader).c_str()) < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return writer;
}

HistoryWriter::HistoryWriter(HistoryWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      path_(std::move(other.path_)),
      count_(other.count_) {}

HistoryWriter::~HistoryWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status HistoryWriter::Append(const Operation& op) {
  const std::string line = EncodeOperation(op);
  if (std::fprintf(file_, "%s\n", line.c_str()) < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path_));
  }
  ++count_;
  return absl::OkStatus();
}

absl::Status HistoryWriter::Close() {
  const bool written =
      std::fprintf(file_, "end %llu\n", static_cast<unsigned long long>(count_)) >= 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!written || !closed) return absl::UnavailableError(absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

absl::Status WriteHistory(const std::string& path, absl::Span<const Operation> ops) {
  absl::StatusOr<HistoryWriter> writer = HistoryWriter::Create(path);
  if (!writer.ok()) return writer.status();
  for (const Operation& op : ops) {
    absl::Status s = writer->Append(op);
    if (!s.ok()) return s;
  }
  return writer->Close();
}

absl::StatusOr<std::vector<Operation>> ReadHistory(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no history log ", path));
  auto corrupt = [&](size_t line_no, std::string_view why) {
    return absl::DataLossError(absl::StrCat(path, ":", line_no, ": ", util::ToAbsl(why)));
  };
  std::string line;
  if (!std::getline(in, line) || line != kHeader) return corrupt(1, "not a version 1 history");
  std::vector<Operation> ops;
  for (size_t line_no = 2; std::getline(in, line); ++line_no) {
    if (absl::StartsWith(line, "end ")) {
      if (in.eof()) return corrupt(line_no, "end line cut short");
      uint64_t count = 0;
      if (!Atoi(std::string_view(line).substr(4), &count) || count != ops.size()) {
        return corrupt(line_no, "end line does not match the records");
      }
      if (in.peek() != std::char_traits<char>::eof()) return corrupt(line_no + 1, "after end");
      return ops;
    }
    absl::StatusOr<Operation> op = DecodeOperation(line);
    if (!op.ok()) return corrupt(line_no, util::FromAbsl(op.status().message()));
    ops.push_back(*std::move(op));
  }
  return absl::DataLossError(
      absl::StrCat(path, ": truncated (no end line after ", ops.size(), " records)"));
}

}  // namespace asidekv::distributed
