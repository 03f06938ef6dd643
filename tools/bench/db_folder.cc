#include "tools/bench/db_folder.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace asidekv::bench {

absl::Status DbFolder::Create(const std::string& path, const std::vector<std::string>& backends,
                              bool keep) {
  keep_ = keep;
  std::error_code error;
  if (path.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/asidekv-bench-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(absl::StrCat("cannot create a temporary folder ", pattern));
    }
    root_ = pattern;
    temporary_ = true;
    backends_ = backends;
    return absl::OkStatus();
  }
  root_ = path;
  for (const std::string& backend : backends) {
    if (std::filesystem::exists(PathFor(backend), error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag --db: ", PathFor(backend), " already exists; remove it or choose another --db"));
    }
  }
  std::filesystem::create_directories(root_, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --db: cannot create ", root_, ": ", error.message()));
  }
  backends_ = backends;
  return absl::OkStatus();
}

DbFolder::~DbFolder() {
  if (root_.empty() || keep_) return;
  std::error_code error;
  if (temporary_) {
    std::filesystem::remove_all(root_, error);
    return;
  }
  for (const std::string& backend : backends_) std::filesystem::remove_all(PathFor(backend), error);
}

}  // namespace asidekv::bench
