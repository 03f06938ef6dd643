// DbFolder: where the benchmark's databases live, one sub-folder per backend.
//
// With no --db it is a fresh folder under $TMPDIR (or /tmp), removed with everything in it at
// the end unless kept. With --db it is that folder (created if missing); the backends'
// sub-folders in it must not exist yet, and only they are removed at the end unless kept.
//
// Thread safety: none needed; the command's thread owns it.

#ifndef ASIDEKV_TOOLS_BENCH_DB_FOLDER_H_
#define ASIDEKV_TOOLS_BENCH_DB_FOLDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace asidekv::bench {

class DbFolder {
 public:
  DbFolder() = default;
  // Removes what Create() made unless `keep` was set.
  ~DbFolder();
  DbFolder(const DbFolder&) = delete;
  DbFolder& operator=(const DbFolder&) = delete;

  // `path` empty: a temporary folder. InvalidArgument if a sub-folder of `backends` already
  // exists under `path` (so an old database is never benchmarked by mistake or deleted).
  absl::Status Create(const std::string& path, const std::vector<std::string>& backends, bool keep);

  const std::string& root() const { return root_; }
  // root()/backend (not created: the backend creates it).
  std::string PathFor(const std::string& backend) const { return root_ + "/" + backend; }
  bool temporary() const { return temporary_; }

 private:
  std::string root_;
  std::vector<std::string> backends_;
  bool temporary_ = false;
  bool keep_ = false;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_DB_FOLDER_H_
