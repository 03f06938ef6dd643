// ChangeFeed: the committed changes of one asidekv table, read from PostgreSQL's logical decoding
// (a replication slot with the test_decoding plugin), for the commit-log relay (core/relay.h),
// with the leadership that lets one process at a time read them.
//
// Leadership. A dedicated session holds pg_try_advisory_lock(hashtext('asidekv.relay.<slot>')).
// The lock frees when that session ends (the process died, pg_terminate_backend, a network
// failure), so another process's TryLead() takes over. CheckLeadership() sends a round trip on
// the session every second, and at once when the idle session received anything (a termination
// notice, EOF), so a leader that lost its session stops reading. The slot is a second fence:
// PostgreSQL streams one slot to one connection at a time ("replication slot ... is active").
//
// The stream. Open() makes sure the slot exists and can be read, then starts the streaming
// replication protocol on a replication connection (replication=database):
//   SET bytea_output = 'hex';
//   START_REPLICATION SLOT <slot> LOGICAL 0/0 ("include-xids" '1', "include-timestamp" '1',
//                                              "skip-empty-xacts" '1')
// It resumes after the slot's confirmed position: every transaction committed after it comes
// again, in commit order (at least once: Confirm() is the only thing that moves it). The slot
// is created when missing, and dropped and created again when PostgreSQL invalidated it
// (wal_status 'lost': it fell more than max_slot_wal_keep_size behind); both are reported as
// kCreated, since changes made before that are lost and the caller must flush what they could
// have invalidated. A slot of the same name made by something else (another plugin, database or
// a physical slot) is FailedPrecondition.
//
// Why streaming and not pg_logical_slot_peek_changes() polling: each peek decodes again from
// the slot's restart_lsn, which moves only with the server's running-transactions records
// (every 15 s), so at 2,000 writes/s every poll re-decodes up to 30,000 transactions; the
// walsender decodes each record once and pushes it as it commits. Measured through the relay at
// 2,000 writes/s on 2 cores: commit to invalidation p50 0.6 ms, p99 2.6-3.3 ms (core/relay.h).
//
// Messages (big-endian): XLogData 'w' start end send_time data, keepalive 'k' end send_time
// reply; Confirm() sends a standby status update 'r' write flush apply time reply, with the
// time 0 (the server only displays it; nothing here reads the wall clock). Read() answers
// keepalives that ask for a reply, sends a status update at least every 10 s, and confirms a
// keepalive's position when no transaction is open and every transaction it returned was
// confirmed (so writes to other tables or databases do not make the slot retain WAL forever).
//
// Lag. Each transaction carries the server's own delay: the time its COMMIT message was sent
// minus its commit time (both on the server's clock, microseconds since 2000-01-01), and the
// monotonic time it was received here; the relay adds its own processing time.
//
// Thread safety: none; the relay's one thread uses it.
// Ownership: owns its two connections; the destructor closes them (which releases the lock).

#ifndef ASIDEKV_DB_POSTGRES_CHANGE_FEED_H_
#define ASIDEKV_DB_POSTGRES_CHANGE_FEED_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asidekv::db {

class PgConnection;  // db/postgres/pg_connection.h

struct ChangeFeedOptions {
  // libpq connection string of the table's database.
  std::string conninfo;
  // The asidekv table (db/postgres/postgres_schema.h) and the slot that decodes its changes.
  std::string table;
  std::string slot;
  // The longest any one call waits for the server.
  absl::Duration timeout = absl::Seconds(10);
};

// One committed transaction, in commit order.
struct FeedTransaction {
  // The position to Confirm() once its invalidations landed.
  uint64_t end_lsn = 0;
  // Keys of the table it inserted, updated (old and new key) or deleted; may repeat.
  std::vector<std::string> keys;
  // Every key may have changed: a TRUNCATE, a change whose key the output does not show, or
  // more than kMaxKeysPerTransaction keys.
  bool all_keys = false;
  // The server's delay (see the file comment); nullopt when a timestamp was missing.
  std::optional<int64_t> server_delay_micros;
  // util::MonotonicNanos() when its COMMIT arrived.
  int64_t received_nanos = 0;
  // Its transaction id (32 bits), for Visible(); nullopt when the output carried none.
  std::optional<uint32_t> xid;
};

class ChangeFeed {
 public:
  // Beyond this many keys a transaction is reported as all_keys (it is not kept in memory).
  static constexpr size_t kMaxKeysPerTransaction = 100000;

  // The slot name derived from a table name: "asidekv_relay_<table>".
  static std::string DefaultSlotName(std::string_view table);
  // OK, or InvalidArgument: a slot name is [a-z0-9_], 1 to 63 bytes.
  static absl::Status ValidateSlotName(std::string_view slot);

  // Connects once and checks that the server can decode: wal_level = logical,
  // max_replication_slots > 0, max_wal_senders > 0; FailedPrecondition naming the setting
  // otherwise (nothing is created). Connection errors as PgConnection::Connect.
  static absl::Status CheckServer(const ChangeFeedOptions& options);

  // InvalidArgument for a bad conninfo, table or slot name. Connects nothing yet.
  static absl::StatusOr<std::unique_ptr<ChangeFeed>> Create(const ChangeFeedOptions& options);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Connects the leader session if needed and tries the lock: true when this feed leads (now
  // or already). An error closes the session (not leading).
  absl::StatusOr<bool> TryLead();
  bool leading() const { return leader_ != nullptr; }
  // Whether the leader session still holds the lock (see the file comment). When it does not,
  // the feed stops leading and closes the stream.
  bool CheckLeadership();
  // Closes the stream and the leader session, which releases the lock.
  void Resign();

  enum class SlotState { kKept, kCreated };
  // REQUIRES: leading(). Ensures the slot and starts streaming (see the file comment).
  // `before_create` runs before a slot is dropped or created; its error fails Open first.
  absl::StatusOr<SlotState> Open(absl::FunctionRef<absl::Status()> before_create);
  bool streaming() const { return stream_ != nullptr; }
  // Closes the stream (not the leadership).
  void CloseStream();

  // REQUIRES: streaming(). Waits until the deadline (util::MonotonicNanos()) for a committed
  // transaction, then returns it with those already received (at most `max`). Empty when none
  // came in time. An error closes the stream.
  absl::StatusOr<std::vector<FeedTransaction>> Read(int64_t deadline_nanos, size_t max);
  // REQUIRES: streaming(). Reports every transaction up to `lsn` handled: the slot may move
  // there. An error closes the stream.
  absl::Status Confirm(uint64_t lsn);
  // Whether every transaction of `batch` is visible to a snapshot taken now, on the leader
  // session. A transaction is decoded (and streamed) as soon as its commit record is flushed,
  // which is before the server ends it in its process array: until then a read still sees the
  // rows it replaced. One round trip; transactions without an xid count as visible. REQUIRES:
  // leading(). An error closes the leader session (CheckLeadership() then says false).
  absl::StatusOr<bool> Visible(const std::vector<FeedTransaction>& batch);
  // The latest end of the server's WAL that the stream reported (0 before any message).
  uint64_t server_wal_end() const { return server_wal_end_; }

  const std::string& server() const { return server_; }

 private:
  ChangeFeed(ChangeFeedOptions options, std::string server, std::string password);

  int64_t Deadline() const;
  // Handles one CopyData message; appends a completed transaction to *out.
  absl::Status Handle(std::string_view message, std::vector<FeedTransaction>* out);
  absl::Status SendStatus(uint64_t lsn, bool reply_requested);
  absl::Status StreamFailed(absl::Status s);

  const ChangeFeedOptions options_;
  const std::string server_;    // For messages, without the password.
  const std::string password_;  // Scrubbed from messages.

  std::unique_ptr<PgConnection> leader_;  // Holds the advisory lock.
  int64_t leader_checked_nanos_ = 0;
  std::unique_ptr<PgConnection> stream_;  // The replication connection.

  // The transaction being received (between BEGIN and COMMIT).
  bool in_transaction_ = false;
  FeedTransaction open_;
  uint64_t last_returned_lsn_ = 0;  // end_lsn of the last transaction Read() returned.
  uint64_t confirmed_lsn_ = 0;      // The last position sent in a status update.
  int64_t last_status_nanos_ = 0;
  uint64_t server_wal_end_ = 0;
};

// "0/1530A08" for an LSN, as PostgreSQL writes them.
std::string FormatLsn(uint64_t lsn);

}  // namespace asidekv::db

#endif  // ASIDEKV_DB_POSTGRES_CHANGE_FEED_H_
