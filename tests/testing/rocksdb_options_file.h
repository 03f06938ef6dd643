// RocksDbOptionsFileText: the RocksDB options a folder was last opened with, as RocksDB wrote
// them (its newest OPTIONS-NNNNNN file), for tests that check an option reached RocksDB.

#ifndef ASIDEKV_TESTS_TESTING_ROCKSDB_OPTIONS_FILE_H_
#define ASIDEKV_TESTS_TESTING_ROCKSDB_OPTIONS_FILE_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace asidekv::testing {

// The text of the newest OPTIONS file in `folder` (RocksDB numbers them with a fixed width, so
// the greatest name is the newest); empty if there is none.
inline std::string RocksDbOptionsFileText(const std::string& folder) {
  std::string newest;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("OPTIONS-", 0) == 0 && name > newest) newest = name;
  }
  if (newest.empty()) return "";
  std::ifstream in(folder + "/" + newest);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_ROCKSDB_OPTIONS_FILE_H_
