#pragma once
// A target device over an in-memory disk with two attached initiators, and helpers to build CDBs and read the
// results of a command.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/target_device.hpp"
#include "tests/unit/scsi/memory_block_device.hpp"

namespace bootherd::scsi::testing {

using Bytes = std::vector<std::uint8_t>;

inline Nexus make_nexus(std::uint64_t id, const std::string& name) {
    Nexus n;
    n.id = id;
    n.initiator_name = name;
    n.isid = id;
    char isid[16];
    std::snprintf(isid, sizeof isid, "%012llx", static_cast<unsigned long long>(id));
    n.initiator_port = name + ",i,0x" + isid;
    n.relative_target_port = 1;
    return n;
}

struct Options {
    std::uint64_t blocks = 2048;
    std::uint32_t block_size = 512;
    bool thin = true;
    bool read_only = false;
};

class Harness {
  public:
    explicit Harness(Options options = {})
        : disk(std::make_shared<MemoryBlockDevice>(options.blocks, options.block_size, options.thin)) {
        LogicalUnitConfig config;
        config.lun = 0;
        config.backend = disk;
        config.serial = "SERIAL0001";
        config.naa_id = 0x1122334455667788ull;
        config.read_only = options.read_only;
        std::vector<LogicalUnitConfig> luns;
        luns.push_back(config);
        target = make_target_device(std::move(luns));
        target->attach(a);
        target->attach(b);
        clear_unit_attentions(a);
        clear_unit_attentions(b);
    }

    void clear_unit_attentions(const Nexus& n) {
        for (int i = 0; i < 32; ++i) {
            if (run({0x00, 0, 0, 0, 0, 0}, n).status == Status::good) return;
        }
        FAIL("unit attentions never cleared");
    }

    // Runs a CDB; `expected` defaults to the Data-Out size for writes and 1 MiB for reads.
    Task run(const Bytes& cdb, const Nexus& n, const Bytes& data_out = {}, std::uint64_t lun = 0,
             std::optional<std::uint32_t> expected = std::nullopt) {
        Task task;
        task.reset();
        std::memcpy(task.cdb_bytes.data(), cdb.data(), cdb.size());
        task.cdb_length = std::max<std::size_t>(cdb.size(), 16);
        task.lun = lun;
        task.nexus = &n;
        task.write_flag = !data_out.empty();
        task.read_flag = data_out.empty();
        task.expected_length =
            expected.value_or(data_out.empty() ? (1u << 20) : static_cast<std::uint32_t>(data_out.size()));
        if (!data_out.empty()) {
            auto buffer = task.data_out_buffer(data_out.size());
            std::memcpy(buffer.data(), data_out.data(), data_out.size());
            task.data_out_length =
                static_cast<std::uint32_t>(std::min<std::size_t>(data_out.size(), task.expected_length));
        }
        CHECK(target->runs_inline(task) == target->runs_inline(task));  // pure
        target->execute(task);
        return task;
    }
    Task run(const Bytes& cdb, const Bytes& data_out = {}) { return run(cdb, a, data_out); }

    std::shared_ptr<MemoryBlockDevice> disk;
    std::unique_ptr<TargetDevice> target;
    Nexus a = make_nexus(1, "iqn.2026-01.test:alpha");
    Nexus b = make_nexus(2, "iqn.2026-01.test:beta");
};

inline Bytes data_in(const Task& t) {
    auto v = t.data_in_view();
    return {reinterpret_cast<const std::uint8_t*>(v.data()),
            reinterpret_cast<const std::uint8_t*>(v.data()) + v.size()};
}

// Fixed-format sense accessors.
inline std::uint8_t sense_key(const Task& t) {
    return t.sense[0] == 0x72 ? t.sense[1] & 0x0f : t.sense[2] & 0x0f;
}
inline std::uint16_t sense_code(const Task& t) {
    return t.sense[0] == 0x72 ? static_cast<std::uint16_t>(t.sense[2] << 8 | t.sense[3])
                              : static_cast<std::uint16_t>(t.sense[12] << 8 | t.sense[13]);
}

inline void check_sense(const Task& t, std::uint8_t key, std::uint16_t code) {
    REQUIRE(t.status == Status::check_condition);
    CHECK(int{sense_key(t)} == int{key});
    CHECK(int{sense_code(t)} == int{code});
}

inline Bytes rw10(std::uint8_t op, std::uint32_t lba, std::uint16_t blocks, std::uint8_t flags = 0) {
    Bytes c(10, 0);
    c[0] = op;
    c[1] = flags;
    store_be<std::uint32_t>(c.data() + 2, lba);
    store_be<std::uint16_t>(c.data() + 7, blocks);
    return c;
}
inline Bytes rw12(std::uint8_t op, std::uint32_t lba, std::uint32_t blocks, std::uint8_t flags = 0) {
    Bytes c(12, 0);
    c[0] = op;
    c[1] = flags;
    store_be<std::uint32_t>(c.data() + 2, lba);
    store_be<std::uint32_t>(c.data() + 6, blocks);
    return c;
}
inline Bytes rw16(std::uint8_t op, std::uint64_t lba, std::uint32_t blocks, std::uint8_t flags = 0) {
    Bytes c(16, 0);
    c[0] = op;
    c[1] = flags;
    store_be<std::uint64_t>(c.data() + 2, lba);
    store_be<std::uint32_t>(c.data() + 10, blocks);
    return c;
}
inline Bytes filled(std::size_t n, std::uint8_t value) {
    return Bytes(n, value);
}
inline Bytes concat_bytes(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace bootherd::scsi::testing
