#pragma once
// Constants and small helpers shared by the files that implement Connection (connection*.cpp); not an
// interface.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "common/bytes.hpp"
#include "common/ip_address.hpp"
#include "target/iscsi/data_transfer.hpp"

namespace bootherd::iscsi::connection_detail {
namespace asio = boost::asio;

inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
inline constexpr std::uint32_t kMaxTransferLength = 64u << 20;  // bounds the memory one command may pin
inline constexpr std::size_t kControlLimit = 32;  // queued control PDUs before the reader pauses
inline constexpr std::size_t kControlCapacity = kControlLimit + 2 * WriteTransfer::kMaxOutstanding + 8;
inline constexpr std::size_t kReceiveBuffer = 16384;  // per session: bounded memory for 1000s of sessions
inline constexpr std::size_t kBatchPdus = 16;         // Data-In PDUs per gathered write
inline constexpr std::uint32_t kTextContinuationTag = 1;
inline constexpr std::array<std::uint8_t, 4> kPadding{};

inline std::string hex_isid(std::uint64_t isid) {
    std::array<char, 16> text{};
    std::snprintf(text.data(), text.size(), "%012llx", static_cast<unsigned long long>(isid));
    return text.data();
}

inline std::string format_endpoint(const asio::ip::tcp::endpoint& ep) {
    const asio::ip::address address = unmapped(ep.address());
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(ep.port());
}

// Runs `work` (which may block: the target directory may open files or query the catalog) on the disk pool;
// the awaiting coroutine resumes on its own executor (the connection's strand) with the result.
template <class Work>
asio::awaitable<std::invoke_result_t<Work&>> on_disk_pool(asio::thread_pool& pool, Work work) {
    using Result = std::invoke_result_t<Work&>;
    co_return co_await asio::co_spawn(
        pool, [work = std::move(work)]() mutable -> asio::awaitable<Result> { co_return work(); },
        asio::use_awaitable);
}

inline void put_digest(std::uint8_t* at, std::uint32_t crc) {
    store_le(at, crc);
}

}  // namespace bootherd::iscsi::connection_detail
