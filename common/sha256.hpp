#pragma once
// SHA-256 over bytes fed in pieces (OpenSSL), as 64 lower-case hex digits.
#include <span>
#include <string>

struct evp_md_ctx_st;

namespace bootherd {

class Sha256 {
  public:
    Sha256();  // std::runtime_error when OpenSSL has no SHA-256
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::span<const char> bytes);
    std::string hex_digest();  // ends the hash

  private:
    evp_md_ctx_st* context_;
};

}  // namespace bootherd
