#include "tools/trace/trace_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::trace {
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Our Abseil has its own absl::string_view, which std::string_view does not convert to.
absl::Status OpenError(const std::string& path, int err) {
  std::string msg = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

}  // namespace

absl::Status TraceBuilder::LineError(std::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ":", line_number_, ": ", util::ToAbsl(what)));
}

absl::Status TraceBuilder::AddLine(std::string_view line) {
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return LineError("empty line");
  const size_t space = line.find(' ');
  const std::string_view key = line.substr(0, space);
  if (key.empty()) return LineError("line starts with a space");
  const int columns = space == std::string_view::npos ? 1 : 2;
  if (columns_ == 0) columns_ = columns;
  if (columns != columns_) {
    return LineError(absl::StrCat("expected ", columns_, " column(s) as on the first line"));
  }
  uint64_t size = 0;
  if (columns == 2 && !absl::SimpleAtoi(util::ToAbsl(line.substr(space + 1)), &size)) {
    return LineError("size is not an unsigned integer");
  }
  auto [it, inserted] = ids_.try_emplace(key, static_cast<uint32_t>(trace_.keys.size()));
  if (inserted) {
    if (trace_.keys.size() == std::numeric_limits<uint32_t>::max()) {
      return LineError("more than 2^32-1 unique keys");
    }
    trace_.keys.emplace_back(key);
    if (columns == 2) trace_.sizes.push_back(size);
  }
  trace_.requests.push_back(it->second);
  return absl::OkStatus();
}

absl::StatusOr<Trace> TraceBuilder::Finish() {
  if (trace_.requests.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": no requests"));
  }
  ids_.clear();
  return std::exchange(trace_, Trace{});
}

absl::StatusOr<Trace> ReadTrace(const std::string& path) {
  errno = 0;
  GzFile file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) return OpenError(path, errno != 0 ? errno : ENOMEM);
  gzbuffer(file.get(), 1 << 17);

  TraceBuilder builder(path);
  std::string buffer(1 << 20, '\0');
  std::string partial;  // An unfinished line carried over from the previous chunk.
  for (;;) {
    const int n = gzread(file.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(file.get(), &code);
      if (code == Z_ERRNO) msg = std::strerror(errno);
      return absl::DataLossError(absl::StrCat("cannot read ", path, ": ", msg));
    }
    if (n == 0) {
      // A truncated gzip stream ends with an error rather than a failed read.
      int code = 0;
      const char* msg = gzerror(file.get(), &code);
      if (code != Z_OK) return absl::DataLossError(absl::StrCat("cannot read ", path, ": ", msg));
      break;
    }
    std::string_view chunk(buffer.data(), static_cast<size_t>(n));
    for (size_t nl; (nl = chunk.find('\n')) != std::string_view::npos;) {
      absl::Status s;
      if (partial.empty()) {
        s = builder.AddLine(chunk.substr(0, nl));
      } else {
        partial.append(chunk.substr(0, nl));
        s = builder.AddLine(partial);
        partial.clear();
      }
      if (!s.ok()) return s;
      chunk.remove_prefix(nl + 1);
    }
    partial.append(chunk);
  }
  if (!partial.empty()) {
    absl::Status s = builder.AddLine(partial);
    if (!s.ok()) return s;
  }
  return builder.Finish();
}

}  // namespace asidekv::trace
