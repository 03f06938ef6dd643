#include "db/format_marker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "util/string_view.h"

namespace asidekv::db {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTag = "asidekv-format";
// A marker longer than this is not one (it is read whole).
constexpr size_t kMaxMarkerBytes = 256;

std::string_view EncodingName(ValueEncoding e) {
  return e == ValueEncoding::kRaw ? "raw" : "header";
}

std::string MarkerPath(const std::string& folder) {
  return (fs::path(folder) / kFormatMarkerFile).string();
}

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

// Writes all of `data` to a new file at `path` and fsyncs it.
absl::Status WriteSynced(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = Errno("cannot sync", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("cannot close", path);
  return absl::OkStatus();
}

}  // namespace

std::string FormatMarkerLine(ValueEncoding encoding) {
  return absl::StrCat(std::string(kTag), " ", kFormatVersion, " ",
                      std::string(EncodingName(encoding)));
}

absl::StatusOr<FormatMarker> ParseFormatMarker(std::string_view line) {
  std::string_view rest = line;
  if (rest.substr(0, kTag.size() + 1) != absl::StrCat(std::string(kTag), " ")) {
    return absl::DataLossError("no asidekv-format tag");
  }
  rest.remove_prefix(kTag.size() + 1);
  FormatMarker marker;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), marker.version);
  if (ec != std::errc() || marker.version < 1) return absl::DataLossError("bad version");
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  if (marker.version > kFormatVersion) return marker;  // Its layout is not ours to parse.
  if (rest == " header") {
    marker.encoding = ValueEncoding::kHeader;
  } else if (rest == " raw") {
    marker.encoding = ValueEncoding::kRaw;
  } else {
    return absl::DataLossError("unknown value encoding");
  }
  return marker;
}

absl::StatusOr<FormatMarker> ReadFormatMarker(const std::string& folder) {
  const std::string path = MarkerPath(folder);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return absl::NotFoundError(absl::StrCat("no ", path));
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  std::string text;
  text.resize(kMaxMarkerBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  text.resize(static_cast<size_t>(in.gcount()));
  auto corrupt = [&path](std::string_view why) {
    return absl::DataLossError(
        absl::StrCat("format marker ", path, " is corrupt: ", std::string(why)));
  };
  std::string_view rest = text;
  if (rest.size() > kMaxMarkerBytes) return corrupt("too long");
  if (rest.empty() || rest.back() != '\n') return corrupt("not one line");
  rest.remove_suffix(1);
  absl::StatusOr<FormatMarker> marker = ParseFormatMarker(rest);
  if (!marker.ok()) return corrupt(util::FromAbsl(marker.status().message()));
  return marker;
}

absl::Status WriteFormatMarker(const std::string& folder, ValueEncoding encoding) {
  const std::string path = MarkerPath(folder);
  const std::string tmp = path + ".tmp";
  absl::Status s = WriteSynced(tmp, FormatMarkerLine(encoding) + "\n");
  if (!s.ok()) return s;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  // Make the rename durable before the store is created beside it.
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Errno("cannot open folder", folder);
  const int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) return Errno("cannot sync folder", folder);
  return absl::OkStatus();
}

absl::StatusOr<ValueEncoding> CheckFormatMarker(const std::string& folder,
                                                std::optional<ValueEncoding> expected,
                                                bool writable, const std::string& context) {
  std::error_code ec;
  const bool has_store = fs::exists(fs::path(folder) / "CURRENT", ec);
  absl::StatusOr<FormatMarker> marker = ReadFormatMarker(folder);
  if (absl::IsNotFound(marker.status())) {
    const bool adopt = expected == ValueEncoding::kRaw;
    if (has_store && !adopt) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, ": the folder is a RocksDB database without asidekv's format marker (",
          kFormatMarkerFile,
          "): written by another program, or by asidekv 0.1.0; to use its values as they are, "
          "open it with Options::raw_values = true"));
    }
    const ValueEncoding encoding = expected.value_or(ValueEncoding::kHeader);
    if (!writable) return encoding;  // Nothing is written; RocksDB reports a missing store.
    fs::create_directory(folder, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat(context, ": cannot create the folder: ", ec.message()));
    }
    absl::Status s = WriteFormatMarker(folder, encoding);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
    return encoding;
  }
  if (!marker.ok()) {
    return absl::Status(marker.status().code(),
                        absl::StrCat(context, ": ", marker.status().message()));
  }
  if (marker->version > kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": the folder's format version ", marker->version,
                     " is newer than this asidekv supports (", kFormatVersion, ")"));
  }
  if (expected.has_value() && *expected != marker->encoding) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": the folder's values are stored ",
                     marker->encoding == ValueEncoding::kRaw ? "raw (Options::raw_values = true)"
                                                             : "with asidekv's header",
                     " but it was opened ",
                     *expected == ValueEncoding::kRaw ? "with Options::raw_values = true"
                                                      : "without Options::raw_values"));
  }
  return marker->encoding;
}

}  // namespace asidekv::db
