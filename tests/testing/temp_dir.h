// TempDir: a fresh folder under the test temp dir, removed (recursively) when destroyed.
//
// Thread safety: none needed; one fixture per test.

#ifndef ASIDEKV_TESTS_TESTING_TEMP_DIR_H_
#define ASIDEKV_TESTS_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace asidekv::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_TEMP_DIR_H_
