#include "tools/bootherd/cli_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <iostream>

namespace bootherd::cli {

Table::Table(std::vector<std::string> headers) {
    rows_.push_back(std::move(headers));
}

void Table::add(std::vector<std::string> row) {
    if (row.size() != rows_.front().size())
        throw std::invalid_argument("table row has " + std::to_string(row.size()) + " cells for " +
                                    std::to_string(rows_.front().size()) + " columns");
    rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_)
        for (std::size_t column = 0; column < row.size(); ++column)
            widths[column] = std::max(widths[column], row[column].size());
    for (const auto& row : rows_) {
        std::string line;
        for (std::size_t column = 0; column < row.size(); ++column) {
            line += row[column];
            if (column + 1 < row.size()) line.append(widths[column] - row[column].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out << line << '\n';
    }
}

void print_json(std::ostream& out, const boost::json::value& value) {
    out << boost::json::serialize(value) << '\n';
}

std::string local_time(std::optional<std::int64_t> ms) {
    if (!ms) return "-";
    const auto seconds = static_cast<std::time_t>(*ms / 1000);
    std::tm tm{};
    localtime_r(&seconds, &tm);
    char text[40];
    const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &tm);
    std::string result(text, length);
    // strftime's %z is "+0100"; ISO-8601 extended format wants "+01:00".
    if (result.size() >= 5) result.insert(result.size() - 2, ":");
    return result;
}

bool confirm(const std::string& question, bool yes) {
    if (yes) return true;
    if (::isatty(STDIN_FILENO) == 0)
        throw UsageError(question + ": not asked without a terminal; pass --yes to confirm");
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace bootherd::cli
