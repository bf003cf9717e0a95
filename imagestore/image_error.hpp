#pragma once
// The one exception type of the image store: every message names the image file and the problem.
#include <stdexcept>
#include <string>
#include <system_error>

namespace bootherd::imagestore {

class ImageError : public std::runtime_error {
  public:
    // `code`: the system error behind a failed I/O call, if any (callers tell a full disk from a broken one).
    ImageError(const std::string& file, const std::string& problem, std::error_code code = {})
        : std::runtime_error(file + ": " + problem), file_(file), code_(code) {}

    const std::string& file() const noexcept { return file_; }
    std::error_code code() const noexcept { return code_; }

  private:
    std::string file_;
    std::error_code code_;
};

// Raised by the on-disk parsers, which do not know the file name; the opener rethrows it as ImageError.
class FormatError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace bootherd::imagestore
