#pragma once
// Parsing of "ADDR:PORT" command-line values ("0.0.0.0:3260", "[::1]:3260", "127.0.0.1:0").
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

namespace bootherd::cli {

// Throws std::invalid_argument with a message quoting the text.
boost::asio::ip::tcp::endpoint parse_endpoint(std::string_view text, std::uint16_t default_port);

}  // namespace bootherd::cli
