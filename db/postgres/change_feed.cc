#include "db/postgres/change_feed.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "db/postgres/conninfo.h"
#include "db/postgres/decoded_change.h"
#include "db/postgres/pg_connection.h"
#include "db/postgres/postgres_schema.h"
#include "util/monotonic_clock.h"
#include "util/string_view.h"

namespace asidekv::db {
namespace {

constexpr size_t kMaxSlotNameBytes = 63;                  // NAMEDATALEN - 1.
constexpr int64_t kStatusIntervalNanos = 10'000'000'000;  // A status update at least this often.
constexpr int64_t kLeaderCheckIntervalNanos = 1'000'000'000;  // A round trip on the lock's session.

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string LockKey(const std::string& slot) { return "asidekv.relay." + slot; }

}  // namespace

std::string FormatLsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::string ChangeFeed::DefaultSlotName(std::string_view table) {
  return absl::StrCat("asidekv_relay_", util::ToAbsl(table));
}

absl::Status ChangeFeed::ValidateSlotName(std::string_view slot) {
  bool ok = !slot.empty() && slot.size() <= kMaxSlotNameBytes;
  for (char c : slot) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("replication slot name \"", util::ToAbsl(slot),
                   "\" must be 1 to 63 bytes of lowercase letters, digits and underscores"));
}

absl::Status ChangeFeed::CheckServer(const ChangeFeedOptions& options) {
  absl::StatusOr<ParsedConninfo> parsed = ParseConninfo(options.conninfo);
  if (!parsed.ok()) return parsed.status();
  const int64_t deadline = util::MonotonicNanos() + absl::ToInt64Nanoseconds(options.timeout);
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options.conninfo, parsed->server, parsed->password, deadline);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<PgResult> r =
      (*conn)->Run(PgStatement::Sql("SELECT current_setting('wal_level'), "
                                    "current_setting('max_replication_slots'), "
                                    "current_setting('max_wal_senders')"),
                   deadline);
  if (!r.ok()) return r.status();
  if (r->rows() != 1) return absl::InternalError(absl::StrCat(parsed->server, ": no settings"));
  const std::string_view wal_level = r->Get(0, 0);
  if (wal_level != "logical") {
    return absl::FailedPreconditionError(absl::StrCat(
        parsed->server, ": the commit-log relay needs wal_level = logical (the server has ",
        util::ToAbsl(wal_level),
        "): set it in postgresql.conf and restart the server, or turn commit_log_relay off"));
  }
  for (int col : {1, 2}) {
    if (r->Get(0, col) == "0") {
      return absl::FailedPreconditionError(
          absl::StrCat(parsed->server, ": the commit-log relay needs ",
                       col == 1 ? "max_replication_slots" : "max_wal_senders",
                       " > 0 (one slot and one WAL sender per relayed table)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ChangeFeed>> ChangeFeed::Create(const ChangeFeedOptions& options) {
  absl::Status s = ValidateTableName(options.table);
  if (s.ok()) s = ValidateSlotName(options.slot);
  if (!s.ok()) return s;
  absl::StatusOr<ParsedConninfo> parsed = ParseConninfo(options.conninfo);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<ChangeFeed>(
      new ChangeFeed(options, std::move(parsed->server), std::move(parsed->password)));
}

ChangeFeed::ChangeFeed(ChangeFeedOptions options, std::string server, std::string password)
    : options_(std::move(options)), server_(std::move(server)), password_(std::move(password)) {}

ChangeFeed::~ChangeFeed() = default;

int64_t ChangeFeed::Deadline() const {
  return util::MonotonicNanos() + absl::ToInt64Nanoseconds(options_.timeout);
}

absl::StatusOr<bool> ChangeFeed::TryLead() {
  if (leader_ != nullptr) return true;
  const int64_t deadline = Deadline();
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(options_.conninfo, server_, password_, deadline);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<PgResult> r = (*conn)->Run(
      PgStatement::Sql("SELECT CASE WHEN pg_try_advisory_lock(hashtext($1::text)) THEN 'y' ELSE "
                       "'n' END",
                       {{LockKey(options_.slot)}}),
      deadline);
  if (!r.ok()) return r.status();
  if (r->rows() != 1 || r->Get(0, 0) != "y") return false;  // The session closes: no lock kept.
  leader_ = *std::move(conn);
  leader_checked_nanos_ = util::MonotonicNanos();
  return true;
}

absl::StatusOr<bool> ChangeFeed::Visible(const std::vector<FeedTransaction>& batch) {
  if (leader_ == nullptr) return absl::FailedPreconditionError("the change feed does not lead");
  std::string xids;
  for (const FeedTransaction& t : batch) {
    if (t.xid.has_value()) absl::StrAppend(&xids, xids.empty() ? "" : ",", *t.xid);
  }
  if (xids.empty()) return true;
  // A 32-bit xid made 64-bit with the epoch of the snapshot's xmax (every decoded transaction
  // began before it; an xid above xmax's low half is from the previous epoch).
  absl::StatusOr<PgResult> r = leader_->Run(
      PgStatement::Sql(absl::StrCat(
          "SELECT CASE WHEN count(*) = 0 THEN 'y' ELSE 'n' END FROM "
          "(SELECT pg_current_snapshot() AS snap) s, "
          "(SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) m, "
          "unnest('{",
          xids,
          "}'::bigint[]) AS x WHERE NOT pg_visible_in_snapshot((((m.xmax >> 32) - "
          "CASE WHEN x > (m.xmax & 4294967295) THEN 1 ELSE 0 END) << 32 | x)::text::xid8, "
          "s.snap)")),
      Deadline());
  if (!r.ok()) {
    Resign();
    return r.status();
  }
  leader_checked_nanos_ = util::MonotonicNanos();
  return r->rows() == 1 && r->Get(0, 0) == "y";
}

bool ChangeFeed::CheckLeadership() {
  if (leader_ == nullptr) return false;
  // Anything the server sent to an idle session (a termination notice, EOF), or a second gone
  // by: a round trip tells.
  const int64_t now = util::MonotonicNanos();
  bool alive = true;
  if (leader_->HasInput() || now - leader_checked_nanos_ >= kLeaderCheckIntervalNanos) {
    alive = leader_->Run(PgStatement::Sql("SELECT 1"), Deadline()).ok();
    leader_checked_nanos_ = now;
  }
  if (!alive) Resign();
  return alive;
}

void ChangeFeed::Resign() {
  CloseStream();
  leader_.reset();
}

void ChangeFeed::CloseStream() {
  stream_.reset();
  in_transaction_ = false;
  open_ = FeedTransaction();
}

absl::Status ChangeFeed::StreamFailed(absl::Status s) {
  CloseStream();
  return s;
}

absl::StatusOr<ChangeFeed::SlotState> ChangeFeed::Open(
    absl::FunctionRef<absl::Status()> before_create) {
  if (leader_ == nullptr) return absl::FailedPreconditionError("the change feed does not lead");
  CloseStream();
  const int64_t deadline = Deadline();
  absl::StatusOr<PgResult> found =
      leader_->Run(PgStatement::Sql("SELECT s.slot_type::text, coalesce(s.plugin::text, ''), "
                                    "coalesce(s.database::text, ''), coalesce(s.wal_status, ''), "
                                    "current_database()::text FROM pg_replication_slots s "
                                    "WHERE s.slot_name = $1::text",
                                    {{options_.slot}}),
                   deadline);
  if (!found.ok()) return found.status();
  SlotState state = SlotState::kKept;
  bool create = found->rows() == 0;
  const bool lost = !create && found->Get(0, 3) == "lost";
  if (create || lost) {
    absl::Status s = before_create();
    if (!s.ok()) return s;
  }
  if (!create) {
    if (found->Get(0, 0) != "logical" || found->Get(0, 1) != "test_decoding" ||
        found->Get(0, 2) != found->Get(0, 4)) {
      return absl::FailedPreconditionError(absl::StrCat(
          server_, ": replication slot ", options_.slot,
          " exists but is not a test_decoding slot of this database (",
          util::ToAbsl(found->Get(0, 0)), ", ", util::ToAbsl(found->Get(0, 1)), ", database ",
          util::ToAbsl(found->Get(0, 2)), "): choose another relay_slot"));
    }
    if (lost) {  // Invalidated (max_slot_wal_keep_size): recreate it.
      absl::StatusOr<PgResult> dropped = leader_->Run(
          PgStatement::Sql("SELECT pg_drop_replication_slot($1::text)", {{options_.slot}}),
          deadline);
      if (!dropped.ok()) return dropped.status();
      create = true;
    }
  }
  if (create) {
    absl::StatusOr<PgResult> created = leader_->Run(
        PgStatement::Sql("SELECT lsn::text FROM pg_create_logical_replication_slot($1::text, "
                         "'test_decoding')",
                         {{options_.slot}}),
        deadline);
    if (!created.ok()) return created.status();
    state = SlotState::kCreated;
  }
  absl::StatusOr<std::unique_ptr<PgConnection>> stream =
      PgConnection::Connect(options_.conninfo, server_, password_, deadline, /*replication=*/true);
  if (!stream.ok()) return stream.status();
  absl::StatusOr<PgResult> set =
      (*stream)->Run(PgStatement::Simple("SET bytea_output = 'hex'"), deadline);
  if (!set.ok()) return set.status();
  absl::Status s = (*stream)->StartCopyBoth(
      absl::StrCat("START_REPLICATION SLOT \"", options_.slot,
                   "\" LOGICAL 0/0 (\"include-xids\" '1', \"include-timestamp\" '1', "
                   "\"skip-empty-xacts\" '1')"),
      deadline);
  if (!s.ok()) return s;
  stream_ = *std::move(stream);
  last_returned_lsn_ = 0;
  confirmed_lsn_ = 0;
  last_status_nanos_ = util::MonotonicNanos();
  return state;
}

absl::Status ChangeFeed::SendStatus(uint64_t lsn, bool reply_requested) {
  std::string m = "r";
  AppendBigEndian64(lsn, &m);  // Written,
  AppendBigEndian64(lsn, &m);  // flushed
  AppendBigEndian64(lsn, &m);  // and applied: all mean "handled" to a logical slot.
  AppendBigEndian64(0, &m);    // The client's time: only displayed by the server.
  m.push_back(reply_requested ? 1 : 0);
  absl::Status s = stream_->WriteCopyData(m, Deadline());
  if (!s.ok()) return StreamFailed(s);
  confirmed_lsn_ = std::max(confirmed_lsn_, lsn);
  last_status_nanos_ = util::MonotonicNanos();
  return absl::OkStatus();
}

absl::Status ChangeFeed::Handle(std::string_view message, std::vector<FeedTransaction>* out) {
  if (message.empty()) return absl::OkStatus();
  if (message[0] == 'k' && message.size() >= 18) {  // Keepalive: end, time, reply.
    const uint64_t end = ReadBigEndian64(message.substr(1));
    server_wal_end_ = std::max(server_wal_end_, end);
    const bool reply = message[17] != 0;
    // Nothing open and everything returned confirmed: the slot may move to the server's end.
    const bool idle = !in_transaction_ && out->empty() && confirmed_lsn_ >= last_returned_lsn_;
    const uint64_t lsn = idle ? std::max(end, confirmed_lsn_) : confirmed_lsn_;
    if (reply || lsn > confirmed_lsn_) return SendStatus(lsn, false);
    return absl::OkStatus();
  }
  if (message[0] != 'w' || message.size() < 25) return absl::OkStatus();
  const uint64_t start = ReadBigEndian64(message.substr(1));
  server_wal_end_ = std::max(server_wal_end_, ReadBigEndian64(message.substr(9)));
  const int64_t send_micros = static_cast<int64_t>(ReadBigEndian64(message.substr(17)));
  DecodedChange change = ParseDecodedChange(message.substr(25), options_.table);
  switch (change.kind) {
    case DecodedChange::Kind::kBegin:
      in_transaction_ = true;
      open_ = FeedTransaction();
      open_.xid = change.xid;
      break;
    case DecodedChange::Kind::kRow:
      if (open_.all_keys) break;
      for (std::string& k : change.keys) open_.keys.push_back(std::move(k));
      if (open_.keys.size() > kMaxKeysPerTransaction) {
        open_.all_keys = true;
        open_.keys = std::vector<std::string>();
      }
      break;
    case DecodedChange::Kind::kTruncate:
    case DecodedChange::Kind::kUnknownKey:
      open_.all_keys = true;
      open_.keys = std::vector<std::string>();
      break;
    case DecodedChange::Kind::kCommit:
      open_.end_lsn = start;
      if (change.commit_micros.has_value()) {
        open_.server_delay_micros = std::max<int64_t>(0, send_micros - *change.commit_micros);
      }
      open_.received_nanos = util::MonotonicNanos();
      last_returned_lsn_ = start;
      in_transaction_ = false;
      out->push_back(std::move(open_));
      open_ = FeedTransaction();
      break;
    case DecodedChange::Kind::kOther:
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FeedTransaction>> ChangeFeed::Read(int64_t deadline_nanos, size_t max) {
  if (stream_ == nullptr) return absl::FailedPreconditionError("the change feed is not open");
  std::vector<FeedTransaction> out;
  while (out.size() < max) {
    const int64_t now = util::MonotonicNanos();
    if (now - last_status_nanos_ >= kStatusIntervalNanos) {
      absl::Status s = SendStatus(confirmed_lsn_, false);
      if (!s.ok()) return s;
    }
    // Wait for the first transaction; then take only what has arrived.
    const int64_t wait_until =
        out.empty() ? std::min(deadline_nanos, last_status_nanos_ + kStatusIntervalNanos) : now;
    absl::StatusOr<std::optional<std::string>> message = stream_->ReadCopyData(wait_until);
    if (!message.ok()) return StreamFailed(message.status());
    if (!message->has_value()) {
      if (!out.empty() || util::MonotonicNanos() >= deadline_nanos) break;
      continue;
    }
    absl::Status s = Handle(**message, &out);
    if (!s.ok()) return s;
  }
  return out;
}

absl::Status ChangeFeed::Confirm(uint64_t lsn) {
  if (stream_ == nullptr) return absl::FailedPreconditionError("the change feed is not open");
  if (lsn <= confirmed_lsn_) return absl::OkStatus();
  return SendStatus(lsn, false);
}

}  // namespace asidekv::db
