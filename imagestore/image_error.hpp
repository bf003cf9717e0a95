#pragma once
// The one exception type of the image store: every message names the image file and the problem.
#include <stdexcept>
#include <string>

namespace bootherd::imagestore {

class ImageError : public std::runtime_error {
  public:
    ImageError(const std::string& file, const std::string& problem)
        : std::runtime_error(file + ": " + problem), file_(file) {}

    const std::string& file() const noexcept { return file_; }

  private:
    std::string file_;
};

// Raised by the on-disk parsers, which do not know the file name; the opener rethrows it as ImageError.
class FormatError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace bootherd::imagestore
