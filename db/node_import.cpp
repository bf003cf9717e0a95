// NodesRepo::import_csv: all-or-nothing enrolment from a CSV file, reporting every problem by line and field.
#include <algorithm>
#include <array>
#include <map>

#include "db/credentials.hpp"
#include "db/csv.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"
#include "db/nodes_internal.hpp"
#include "db/nodes_repo.hpp"

namespace bootherd::db {
namespace {

enum Column : std::size_t {
    name_column,
    mac_column,
    image_column,
    group_column,
    persistent_column,
    hostname_column,
    ip_column,
    column_count
};
constexpr std::array<std::string_view, column_count> column_names{"name",       "mac",      "image", "group",
                                                                  "persistent", "hostname", "ip"};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::optional<bool> parse_flag(std::string_view text) {
    const std::string value = lower(text);
    if (value == "1" || value == "true" || value == "yes" || value == "y") return true;
    if (value == "0" || value == "false" || value == "no" || value == "n") return false;
    return std::nullopt;
}

// An InvalidArgument's message without its "field: " prefix (the CSV report names its own column).
std::string reason(const InvalidArgument& e) {
    const std::string_view text = e.what();
    return std::string(text.substr(std::min(text.size(), e.field().size() + 2)));
}

class Importer {
  public:
    Importer(Database& db, ImportReport& report) : db_(db), report_(report) {}

    // Maps header positions to columns; false (with problems reported) if the header is unusable.
    bool read_header(const CsvRecord& header) {
        positions_.fill(std::nullopt);
        bool ok = true;
        for (std::size_t i = 0; i < header.fields.size(); ++i) {
            const std::string title = lower(trim(header.fields[i]));
            const auto it = std::find(column_names.begin(), column_names.end(), title);
            if (it == column_names.end()) {
                problem(header.line, "csv",
                        "unknown column '" + title +
                            "' (expected name, mac, image, group, persistent, hostname, ip)");
                ok = false;
                continue;
            }
            auto& position = positions_[static_cast<std::size_t>(it - column_names.begin())];
            if (position) {
                problem(header.line, "csv", "column '" + title + "' appears twice");
                ok = false;
            }
            position = i;
        }
        for (const Column required : {name_column, mac_column}) {
            if (!positions_[required]) {
                problem(header.line, "csv",
                        "header has no '" + std::string(column_names[required]) + "' column");
                ok = false;
            }
        }
        width_ = header.fields.size();
        return ok;
    }

    void check_row(const CsvRecord& record) {
        ++report_.rows;
        if (record.fields.size() != width_) {
            problem(record.line, "csv",
                    "expected " + std::to_string(width_) + " fields, found " +
                        std::to_string(record.fields.size()));
            return;
        }
        const std::size_t problems_before = report_.problems.size();
        Row row;
        bool name_unique = false;
        const std::string_view name = field(record, name_column);
        if (!is_valid_name(name)) {
            problem(
                record.line, "name",
                "'" + std::string(name) + "' is not a valid name (1-63 characters from A-Z a-z 0-9 . _ -)");
        } else {
            row.identity.name = std::string(name);
            row.identity.iqn = node_iqn(name);
            // Distinct names can still share an IQN ('_' maps to '-'): one report per row is enough.
            if (check_unique_in_file(names_, lower(name), record.line, "name")) {
                name_unique = check_unique_in_file(iqns_, row.identity.iqn, record.line, "name");
            }
        }
        const std::string_view mac_text = field(record, mac_column);
        if (auto mac = normalize_mac(mac_text)) {
            row.identity.mac = *mac;
            check_unique_in_file(macs_, *mac, record.line, "mac");
        } else {
            problem(record.line, "mac", "'" + std::string(mac_text) + "' is not a MAC address");
        }
        row.placement.image_id = lookup(images_, "images", image_column, record);
        row.placement.group_id = lookup(groups_, "groups", group_column, record);
        if (const std::string_view flag = field(record, persistent_column); !flag.empty()) {
            row.placement.persistent = parse_flag(flag);
            if (!row.placement.persistent) {
                problem(record.line, "persistent",
                        "'" + std::string(flag) + "' is not true/false/yes/no/1/0");
            }
        }
        check_identity_extras(record, row.identity, name_unique);
        if (report_.problems.size() != problems_before) return;
        if (auto conflict = find_node_conflict(db_, row.identity, std::nullopt)) {
            problem(record.line, conflict->field == "fixed_ip" ? "ip" : conflict->field, conflict->message);
            return;
        }
        rows_.push_back(std::move(row));
    }

    void write() {
        for (const Row& row : rows_)
            insert_node(db_, row.identity, row.placement);
        report_.imported = rows_.size();
    }

  private:
    // The optional hostname and ip columns: valid, and unique within the file (a row without a host name goes
    // by its node name, so that counts too, unless the name itself was already reported as a duplicate).
    void check_identity_extras(const CsvRecord& record, NodeIdentity& identity, bool name_unique) {
        try {
            const std::string_view hostname = field(record, hostname_column);
            set_hostname(identity, hostname.empty() ? std::nullopt : std::optional<std::string>(hostname));
            if (identity.effective_hostname && (identity.hostname || name_unique))
                check_unique_in_file(hostnames_, *identity.effective_hostname, record.line, "hostname");
        } catch (const InvalidArgument& e) {
            problem(record.line, "hostname", reason(e));
        }
        const std::string_view ip = field(record, ip_column);
        if (ip.empty()) return;
        try {
            identity.fixed_ip = require_fixed_ip(ip);
            check_unique_in_file(ips_, *identity.fixed_ip, record.line, "ip");
        } catch (const InvalidArgument& e) {
            problem(record.line, "ip", reason(e));
        }
    }

    struct Row {
        NodeIdentity identity;
        NodePlacement placement;
    };

    std::string_view field(const CsvRecord& record, Column column) const {
        const auto& position = positions_[column];
        return position ? trim(record.fields[*position]) : std::string_view{};
    }

    void problem(std::size_t line, std::string field_name, std::string message) {
        report_.problems.push_back({line, std::move(field_name), std::move(message)});
    }

    // False (and a problem reported) when an earlier line of the file already used `key`.
    bool check_unique_in_file(std::map<std::string, std::size_t>& seen, const std::string& key,
                              std::size_t line, const char* field_name) {
        const auto [it, inserted] = seen.emplace(key, line);
        if (!inserted) {
            problem(line, field_name, "duplicate of line " + std::to_string(it->second) + " in this file");
        }
        return inserted;
    }

    // Resolves an image or group name to its id, memoised per file; an empty field means "none".
    std::optional<std::int64_t> lookup(std::map<std::string, std::optional<std::int64_t>>& cache,
                                       std::string_view table, Column column, const CsvRecord& record) {
        const std::string_view name = field(record, column);
        if (name.empty()) return std::nullopt;
        const std::string key = lower(name);
        auto it = cache.find(key);
        if (it == cache.end()) {
            auto query = db_.prepare("SELECT id FROM " + std::string(table) + " WHERE name = ?");
            query->bind_all(name);
            it = cache.emplace(key, query->step() ? std::optional(query->int64(0)) : std::nullopt).first;
        }
        if (!it->second) {
            problem(record.line, std::string(column_names[column]),
                    std::string(column == image_column ? "image" : "group") + " '" + std::string(name) +
                        "' does not exist");
        }
        return it->second;
    }

    Database& db_;
    ImportReport& report_;
    std::array<std::optional<std::size_t>, column_count> positions_{};
    std::size_t width_ = 0;
    std::map<std::string, std::size_t> names_, macs_, iqns_, hostnames_, ips_;
    std::map<std::string, std::optional<std::int64_t>> images_, groups_;
    std::vector<Row> rows_;
};

}  // namespace

ImportReport NodesRepo::import_csv(std::string_view text, bool validate_only) {
    ImportReport report;
    CsvDocument doc = parse_csv(text);
    for (auto& error : doc.errors)
        report.problems.push_back({error.line, "csv", std::move(error.message)});

    // The first line of the file must be the header; a syntax error there leaves no usable header.
    const bool header_broken =
        !doc.errors.empty() && (doc.records.empty() || doc.errors.front().line < doc.records.front().line);
    if (doc.records.empty() || header_broken) {
        if (!header_broken)
            report.problems.push_back(
                {1, "csv", "a header row (name,mac,image,group,persistent,hostname,ip) is required"});
        return report;
    }
    // Read and write in one transaction so the checks still hold when the rows land.
    Transaction tx(db_);
    Importer importer(db_, report);
    if (!importer.read_header(doc.records.front())) return report;
    for (std::size_t i = 1; i < doc.records.size(); ++i)
        importer.check_row(doc.records[i]);
    report.rows += doc.errors.size();
    std::stable_sort(report.problems.begin(), report.problems.end(),
                     [](const ImportProblem& a, const ImportProblem& b) { return a.line < b.line; });
    if (!report.ok() || validate_only) return report;
    importer.write();
    tx.commit();
    return report;
}

}  // namespace bootherd::db
