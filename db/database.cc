// The defaults of the public asidekv::Database interface (asidekv/database.h). They live in db/,
// beside the implementations, so that every module that implements the interface links them.
#include "asidekv/database.h"

namespace asidekv {

Database::~Database() = default;

std::vector<absl::StatusOr<std::string>> Database::MultiGet(
    absl::Span<const std::string_view> keys) const {
  std::vector<absl::StatusOr<std::string>> out;
  out.reserve(keys.size());
  std::string value;
  for (std::string_view key : keys) {
    absl::Status s = Get(key, &value);
    if (s.ok()) {
      out.emplace_back(value);
    } else {
      out.emplace_back(std::move(s));
    }
  }
  return out;
}

absl::Status Database::Put(std::string_view key, std::string_view value) {
  DatabaseOp op;
  op.type = DatabaseOp::kPut;
  op.key = key;
  op.value = value;
  return Write(absl::MakeConstSpan(&op, 1));
}

absl::Status Database::Delete(std::string_view key) {
  DatabaseOp op;
  op.type = DatabaseOp::kDelete;
  op.key = key;
  return Write(absl::MakeConstSpan(&op, 1));
}

bool Database::IsShared() const { return false; }

absl::StatusOr<std::string> Database::GetProperty(std::string_view name) const {
  return absl::NotFoundError("this database has no property named \"" + std::string(name) + "\"");
}

absl::Status Database::Flush() { return absl::OkStatus(); }
absl::Status Database::CompactAll() { return absl::OkStatus(); }
absl::Status Database::Resume() { return absl::OkStatus(); }

}  // namespace asidekv
