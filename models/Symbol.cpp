#include "models/Symbol.hpp"

#include <fmt/format.h>

namespace flowlier::models {

namespace {
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}
}  // namespace

void Symbol::assign(std::string_view text) {
  if (text.size() <= capacity) {
    std::memcpy(data_.data(), text.data(), text.size());
    size_ = static_cast<std::uint8_t>(text.size());
    return;
  }
  constexpr std::size_t keep = 30;
  std::memcpy(data_.data(), text.data(), keep);
  auto tail = fmt::format("~{:016x}", fnv1a(text));
  std::memcpy(data_.data() + keep, tail.data(), tail.size());
  size_ = static_cast<std::uint8_t>(keep + tail.size());
}

}  // namespace flowlier::models
