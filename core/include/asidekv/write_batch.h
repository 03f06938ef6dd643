// WriteBatch: puts and deletes applied atomically by Store::Write().
//
// A WriteBatch is a plain value: it copies the keys and values given to it. It is not thread
// safe; build it on one thread, then hand it to Store::Write(). This header compiles as C++17.
//
// Example:
//   asidekv::WriteBatch batch;
//   batch.Put("user:42", "alice");
//   batch.Delete("user:43");
//   absl::Status s = store->Write(batch);

#ifndef ASIDEKV_WRITE_BATCH_H_
#define ASIDEKV_WRITE_BATCH_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace asidekv {

class WriteBatch {
 public:
  enum class OpType { kPut, kDelete };
  struct Op {
    OpType type;
    std::string key;
    std::string value;  // Empty for kDelete.
  };

  void Put(std::string_view key, std::string_view value) {
    ops_.push_back(Op{OpType::kPut, std::string(key), std::string(value)});
  }
  void Delete(std::string_view key) {
    ops_.push_back(Op{OpType::kDelete, std::string(key), std::string()});
  }
  void Clear() { ops_.clear(); }

  // Operations in the order they were added; a later op on the same key wins.
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

}  // namespace asidekv

#endif  // ASIDEKV_WRITE_BATCH_H_
