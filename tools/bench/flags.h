// FlagParser: a small command-line parser for the benchmark's subcommands.
//
// Flags are `--name=value` or `--name value`; booleans also take `--name` and `--noname`.
// Every problem (unknown flag, missing or malformed value, value out of range) comes back as
// InvalidArgument naming the flag, for the caller to print before exiting with code 2; nothing
// aborts. Values are written to the variables given at registration, which must outlive Parse().
//
// Thread safety: none; parse on one thread.
//
// Example:
//   int64_t records = 1000;
//   FlagParser flags;
//   flags.AddInt("records", &records, 1, 1'000'000'000, "records loaded");
//   absl::Status s = flags.Parse(argc, argv, /*first=*/2);

#ifndef ASIDEKV_TOOLS_BENCH_FLAGS_H_
#define ASIDEKV_TOOLS_BENCH_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asidekv::bench {

class FlagParser {
 public:
  void AddString(std::string name, std::string* value, std::string help);
  void AddBool(std::string name, bool* value, std::string help);
  // Inclusive range [min, max].
  void AddInt(std::string name, int64_t* value, int64_t min, int64_t max, std::string help);
  void AddDouble(std::string name, double* value, double min, double max, std::string help);
  // absl::ParseDuration syntax ("30s", "1.5s", "500ms", "2m"); a bare number means seconds.
  // Must be >= 0.
  void AddDuration(std::string name, absl::Duration* value, std::string help);

  // Parses argv[first..argc). `--help`/`-h` sets help_requested() and stops. Arguments that do
  // not start with "--" are errors (the subcommands take none).
  absl::Status Parse(int argc, const char* const* argv, int first);

  bool help_requested() const { return help_requested_; }
  // True if the flag was given on the command line.
  bool WasSet(absl::string_view name) const;

  // One line per flag: name, its current (default) value, help.
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    bool is_bool = false;
    bool set = false;
    std::function<absl::Status(absl::string_view)> parse;
    std::function<std::string()> show;
  };
  static Flag MakeFlag(std::string name, std::string help, bool is_bool);
  Flag* Find(absl::string_view name);
  void Add(Flag flag);

  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

}  // namespace asidekv::bench

#endif  // ASIDEKV_TOOLS_BENCH_FLAGS_H_
