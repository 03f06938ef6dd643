#include "db/postgres/postgres_schema.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "db/format_marker.h"
#include "db/postgres/pg_connection.h"
#include "util/string_view.h"

namespace asidekv::db {
namespace {

constexpr std::string_view kWantedSchema =
    "key bytea PRIMARY KEY, value bytea NOT NULL, version bigint NOT NULL";

struct Column {
  std::string name;
  std::string type;
  bool not_null = false;
};

// The differences between `columns` / `primary_key` and kWantedSchema; empty when none.
std::vector<std::string> SchemaDifferences(const std::vector<Column>& columns,
                                           const std::string& primary_key) {
  struct Wanted {
    std::string_view name, type;
  };
  constexpr Wanted kWanted[] = {{"key", "bytea"}, {"value", "bytea"}, {"version", "bigint"}};
  std::vector<std::string> diffs;
  for (const Wanted& w : kWanted) {
    const Column* found = nullptr;
    for (const Column& c : columns) {
      if (c.name == w.name) found = &c;
    }
    if (found == nullptr) {
      diffs.push_back(absl::StrCat("no column ", std::string(w.name)));
    } else if (found->type != w.type) {
      diffs.push_back(
          absl::StrCat("column ", found->name, " is ", found->type, ", not ", std::string(w.type)));
    } else if (!found->not_null) {
      diffs.push_back(absl::StrCat("column ", found->name, " allows NULL"));
    }
  }
  for (const Column& c : columns) {
    if (c.name != "key" && c.name != "value" && c.name != "version") {
      diffs.push_back(absl::StrCat("extra column ", c.name, " ", c.type));
    }
  }
  if (primary_key != "key") {
    diffs.push_back(primary_key.empty()
                        ? std::string("no primary key")
                        : absl::StrCat("the primary key is (", primary_key, "), not (key)"));
  }
  return diffs;
}

std::string EncodingText(ValueEncoding e) {
  return e == ValueEncoding::kRaw ? "raw (Options::raw_values = true)" : "with asidekv's header";
}

}  // namespace

absl::Status ValidateTableName(std::string_view table) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PostgreSQL table name \"", util::ToAbsl(table), "\" ", util::ToAbsl(why),
        " (a lowercase SQL identifier: [a-z_][a-z0-9_]*, at most ", kMaxTableNameBytes, " bytes)"));
  };
  if (table.empty()) return bad("is empty");
  if (table.size() > kMaxTableNameBytes) return bad("is too long");
  for (size_t i = 0; i < table.size(); ++i) {
    const char c = table[i];
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return bad("has a character outside [a-z_] (or [0-9] after the first)");
  }
  return absl::OkStatus();
}

std::vector<PgStatement> PrepareStatements(const std::string& table) {
  const std::string seq = table + "_version";
  std::vector<PgStatement> s;
  s.push_back(PgStatement::Prepare(
      kGetStatement, absl::StrCat("SELECT value FROM ", table, " WHERE key = $1"), {kByteaOid}));
  s.push_back(PgStatement::Prepare(
      kMultiGetStatement,
      absl::StrCat("SELECT key, value FROM ", table, " WHERE key = ANY($1::bytea[])"),
      {kByteaArrayOid}));
  s.push_back(PgStatement::Prepare(
      kPutStatement,
      absl::StrCat("INSERT INTO ", table, " (key, value, version) VALUES ($1, $2, nextval('", seq,
                   "')) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
                   "version = EXCLUDED.version"),
      {kByteaOid, kByteaOid}));
  s.push_back(PgStatement::Prepare(kDeleteStatement,
                                   absl::StrCat("WITH deleted AS (DELETE FROM ", table,
                                                " WHERE key = $1) SELECT nextval('", seq, "')"),
                                   {kByteaOid}));
  s.push_back(
      PgStatement::Prepare(kScanStatement,
                           absl::StrCat("SELECT key, value FROM ", table,
                                        " WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3"),
                           {kByteaOid, kByteaOid, kInt8Oid}));
  s.push_back(PgStatement::Prepare(
      kScanFromStatement,
      absl::StrCat("SELECT key, value FROM ", table, " WHERE key >= $1 ORDER BY key LIMIT $2"),
      {kByteaOid, kInt8Oid}));
  return s;
}

absl::StatusOr<ValueEncoding> EnsureTable(PgConnection& conn, const std::string& table,
                                          std::optional<ValueEncoding> expected,
                                          bool create_if_missing, int64_t deadline_nanos,
                                          const std::string& context) {
  const std::string seq = table + "_version";
  const std::string lock_key = "asidekv.table." + table;
  std::vector<PgStatement> inspect;
  inspect.push_back(PgStatement::Sql("BEGIN"));
  inspect.push_back(
      PgStatement::Sql("SELECT pg_advisory_xact_lock(hashtext($1::text))", {{lock_key}}));
  inspect.push_back(PgStatement::Sql(
      "SELECT c.relkind::text, coalesce(obj_description(c.oid, 'pg_class'), ''), "
      "coalesce((SELECT string_agg(a.attname::text, ',' ORDER BY a.attnum) FROM pg_index i "
      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
      "WHERE i.indrelid = c.oid AND i.indisprimary), '') "
      "FROM pg_class c WHERE c.oid = to_regclass($1::text)",
      {{table}}));
  inspect.push_back(PgStatement::Sql(
      "SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1::text)", {{seq}}));
  inspect.push_back(
      PgStatement::Sql("SELECT attname::text, format_type(atttypid, atttypmod), "
                       "CASE WHEN attnotnull THEN 'y' ELSE 'n' END FROM pg_attribute "
                       "WHERE attrelid = to_regclass($1::text) AND attnum > 0 AND NOT attisdropped "
                       "ORDER BY attnum",
                       {{table}}));
  absl::StatusOr<std::vector<PgResult>> found = conn.RunPipeline(inspect, deadline_nanos);
  if (!found.ok()) {
    return absl::Status(found.status().code(),
                        absl::StrCat(found.status().message(), " (inspecting table ", table, ")"));
  }
  const PgResult& info = (*found)[2];
  const PgResult& seq_info = (*found)[3];
  const PgResult& column_rows = (*found)[4];

  // Ends the transaction: COMMIT keeps what `changes` did, ROLLBACK leaves all as it was.
  auto finish = [&](std::vector<PgStatement> changes, absl::Status result) -> absl::Status {
    changes.push_back(PgStatement::Sql(result.ok() ? "COMMIT" : "ROLLBACK"));
    absl::StatusOr<std::vector<PgResult>> done = conn.RunPipeline(changes, deadline_nanos);
    if (!done.ok()) {
      return absl::Status(done.status().code(),
                          absl::StrCat(done.status().message(), " (setting up table ", table, ")"));
    }
    return result;
  };
  auto refuse = [&](std::string_view why) {
    return finish({}, absl::FailedPreconditionError(
                          absl::StrCat(context, ": table ", table, " ", util::ToAbsl(why))));
  };
  const bool seq_exists = seq_info.rows() > 0;
  if (seq_exists && seq_info.Get(0, 0) != "S") {
    return refuse(absl::StrCat("has a relation named ", seq, " that is not a sequence"));
  }

  if (info.rows() == 0) {
    if (!create_if_missing) return refuse("does not exist (and create_if_missing is false)");
    const ValueEncoding encoding = expected.value_or(ValueEncoding::kHeader);
    std::vector<PgStatement> create;
    create.push_back(PgStatement::Sql(absl::StrCat("CREATE SEQUENCE IF NOT EXISTS ", seq)));
    create.push_back(PgStatement::Sql(
        absl::StrCat("CREATE TABLE ", table, " (", util::ToAbsl(kWantedSchema), ")")));
    create.push_back(PgStatement::Sql(
        absl::StrCat("COMMENT ON TABLE ", table, " IS '", FormatMarkerLine(encoding), "'")));
    absl::Status s = finish(std::move(create), absl::OkStatus());
    if (!s.ok()) return s;
    return encoding;
  }

  const std::string_view relkind = info.Get(0, 0);
  if (relkind != "r" && relkind != "p") {
    return refuse(absl::StrCat("is not a table (pg_class.relkind '", util::ToAbsl(relkind), "')"));
  }
  std::vector<Column> columns;
  for (int i = 0; i < column_rows.rows(); ++i) {
    columns.push_back(Column{std::string(column_rows.Get(i, 0)), std::string(column_rows.Get(i, 1)),
                             column_rows.Get(i, 2) == "y"});
  }
  const std::vector<std::string> diffs = SchemaDifferences(columns, std::string(info.Get(0, 2)));
  if (!diffs.empty()) {
    return refuse(absl::StrCat("does not have asidekv's schema (", util::ToAbsl(kWantedSchema),
                               "): ", absl::StrJoin(diffs, "; ")));
  }

  const std::string comment(info.Get(0, 1));
  absl::StatusOr<FormatMarker> marker = ParseFormatMarker(comment);
  if (!marker.ok()) {
    if (!comment.empty()) {
      if (comment.rfind("asidekv-format", 0) == 0) {
        return finish({}, absl::DataLossError(absl::StrCat(context, ": table ", table,
                                                           "'s format marker (its COMMENT) is "
                                                           "corrupt: ",
                                                           marker.status().message())));
      }
      return refuse(
          "has a COMMENT that is not asidekv's format marker: it belongs to another program");
    }
    if (expected != ValueEncoding::kRaw) {
      return refuse(
          "has no asidekv format marker (COMMENT ON TABLE): it was made by another program; "
          "to use its values as they are, open it with Options::raw_values = true");
    }
    // Adopt the table as raw.
    std::vector<PgStatement> adopt;
    if (!seq_exists) {
      adopt.push_back(PgStatement::Sql(absl::StrCat("CREATE SEQUENCE ", seq)));
      adopt.push_back(PgStatement::Sql(absl::StrCat("SELECT setval('", seq,
                                                    "', coalesce((SELECT max(version) FROM ", table,
                                                    "), 0) + 1, false)")));
    }
    adopt.push_back(PgStatement::Sql(absl::StrCat("COMMENT ON TABLE ", table, " IS '",
                                                  FormatMarkerLine(ValueEncoding::kRaw), "'")));
    absl::Status s = finish(std::move(adopt), absl::OkStatus());
    if (!s.ok()) return s;
    return ValueEncoding::kRaw;
  }
  if (marker->version > kFormatVersion) {
    return refuse(absl::StrCat("has format version ", marker->version,
                               ", newer than this asidekv supports (", kFormatVersion, ")"));
  }
  if (expected.has_value() && *expected != marker->encoding) {
    return refuse(absl::StrCat("stores its values ", EncodingText(marker->encoding),
                               " but was opened ",
                               *expected == ValueEncoding::kRaw ? "with Options::raw_values = true"
                                                                : "without Options::raw_values"));
  }
  if (!seq_exists) return refuse(absl::StrCat("has no sequence ", seq));
  absl::Status s = finish({}, absl::OkStatus());
  if (!s.ok()) return s;
  return marker->encoding;
}

}  // namespace asidekv::db
