#pragma once
// Thrown by the packet codecs (DHCP, TFTP) when untrusted bytes do not form a valid packet.
// The servers catch it, log (rate-limited) and drop the datagram.
#include <stdexcept>

namespace bootherd::boot {

class MalformedPacket : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace bootherd::boot
