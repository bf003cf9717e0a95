#pragma once
// RFC 4180 CSV reader: comma-separated fields, double-quoted fields may hold commas, CR/LF and "" for a
// quote. Records end at LF or CRLF; empty lines and a leading UTF-8 byte-order mark are skipped. The only
// parser of CSV bytes in the project.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bootherd::db {

struct CsvRecord {
    std::size_t line = 0;  // 1-based line on which the record starts
    std::vector<std::string> fields;
};

struct CsvSyntaxError {
    std::size_t line = 0;
    std::string message;
};

struct CsvDocument {
    std::vector<CsvRecord> records;
    // A record with a syntax error is reported here and left out of `records`; reading resumes on the next
    // line.
    std::vector<CsvSyntaxError> errors;
};

CsvDocument parse_csv(std::string_view text);

}  // namespace bootherd::db
