#pragma once
// What every `bootherd` command prints: aligned tables, JSON for --json, local ISO-8601 times, and the
// confirmation that destructive commands ask for.
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bootherd::cli {

// A wrong command line found only once the command runs (a destructive action without --yes and without a
// terminal to ask on): main answers it with exit code 2, like CLI11's own parse errors.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Columns as wide as their widest cell (header included), two spaces apart; the last column is not padded.
class Table {
  public:
    explicit Table(std::vector<std::string> headers);
    // One cell per header; std::invalid_argument otherwise.
    void add(std::vector<std::string> row);
    void print(std::ostream& out) const;

  private:
    std::vector<std::vector<std::string>> rows_;  // the headers first
};

// One JSON document on one line.
void print_json(std::ostream& out, const boost::json::value& value);

// "2026-12-04T03:15:07+01:00" in the local time zone, from milliseconds since the epoch; "-" for none.
std::string local_time(std::optional<std::int64_t> ms);

// Whether to go ahead with a destructive action: yes when `yes` (--yes) was given; on a terminal (standard
// input) the question is asked and only "y" or "yes" goes ahead; without a terminal, UsageError saying to
// pass --yes.
bool confirm(const std::string& question, bool yes);

}  // namespace bootherd::cli
