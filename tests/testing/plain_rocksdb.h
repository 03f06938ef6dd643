// Helpers for tests of folders that asidekv did not write: a folder made by RocksDB alone, and a
// snapshot of a folder's files to show that an open left it untouched.
//
// Header-only; a test that includes it links RocksDB itself (RocksDB::rocksdb-shared).
// Thread safety: plain functions.

#ifndef ASIDEKV_TESTS_TESTING_PLAIN_ROCKSDB_H_
#define ASIDEKV_TESTS_TESTING_PLAIN_ROCKSDB_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace asidekv::testing {

// Writes `values` into a new RocksDB folder at `path` with RocksDB alone (no asidekv code).
inline void MakePlainRocksDb(const std::string& path,
                             const std::map<std::string, std::string>& values) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  for (const auto& [k, v] : values) ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), k, v).ok());
  ASSERT_TRUE(db->Close().ok());
}

// The value of `key` in the RocksDB folder at `path`, read with RocksDB alone ("" if absent).
inline std::string PlainRocksDbGet(const std::string& path, const std::string& key) {
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw).ok()) return "";
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  if (!db->Get(rocksdb::ReadOptions(), key, &value).ok()) return "";
  return value;
}

// Each file of the folder `dir` with its size and modification time.
using FolderSnapshot = std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>>;
inline FolderSnapshot Snapshot(const std::string& dir) {
  FolderSnapshot out;
  for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(dir)) {
    out[e.path().filename().string()] = {e.file_size(), e.last_write_time()};
  }
  return out;
}

}  // namespace asidekv::testing

#endif  // ASIDEKV_TESTS_TESTING_PLAIN_ROCKSDB_H_
