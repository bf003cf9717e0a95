#include "db/csv.hpp"

#include <optional>

namespace bootherd::db {
namespace {

class Reader {
  public:
    explicit Reader(std::string_view text) : text_(text) {}

    CsvDocument read() {
        CsvDocument doc;
        while (pos_ < text_.size()) {
            if (skip_line_end()) continue;  // blank line
            const std::size_t start_line = line_;
            CsvRecord record{start_line, {}};
            if (auto error = read_record(record.fields)) {
                doc.errors.push_back({start_line, std::move(*error)});
                skip_rest_of_line();
            } else {
                doc.records.push_back(std::move(record));
            }
        }
        return doc;
    }

  private:
    bool at_end() const { return pos_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }

    bool skip_line_end() {
        if (peek() == '\n') {
            pos_ += 1;
        } else if (peek() == '\r' && peek(1) == '\n') {
            pos_ += 2;
        } else {
            return false;
        }
        ++line_;
        return true;
    }

    void skip_rest_of_line() {
        while (!at_end() && !skip_line_end())
            ++pos_;
    }

    // Reads fields up to and including the record's line end; returns an error message on bad syntax.
    std::optional<std::string> read_record(std::vector<std::string>& fields) {
        for (;;) {
            std::string field;
            if (auto error = peek() == '"' ? read_quoted(field) : read_plain(field)) return error;
            fields.push_back(std::move(field));
            if (at_end() || skip_line_end()) return std::nullopt;
            if (peek() != ',') return "unexpected character after closing quote";
            ++pos_;
        }
    }

    std::optional<std::string> read_plain(std::string& field) {
        while (!at_end()) {
            const char c = peek();
            if (c == ',' || c == '\n' || (c == '\r' && peek(1) == '\n')) break;
            if (c == '"') return "quote character inside an unquoted field";
            field += c;
            ++pos_;
        }
        return std::nullopt;
    }

    std::optional<std::string> read_quoted(std::string& field) {
        ++pos_;  // opening quote
        while (!at_end()) {
            const char c = peek();
            if (c == '"') {
                if (peek(1) != '"') {
                    ++pos_;
                    return std::nullopt;
                }
                field += '"';
                pos_ += 2;
                continue;
            }
            if (c == '\n') ++line_;
            field += c;
            ++pos_;
        }
        return "quoted field is not closed";
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

}  // namespace

CsvDocument parse_csv(std::string_view text) {
    // Spreadsheet exports often start with a UTF-8 byte-order mark; it is not part of the first field.
    constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
    if (text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());
    return Reader(text).read();
}

}  // namespace bootherd::db
