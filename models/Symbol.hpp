#pragma once
// A short identifier (ENI id, account, VPC, region, ...) stored inline so that a
// FlowRecord stays a plain copyable value with no allocation on the parse path.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace flowlier::models {

class Symbol {
 public:
  static constexpr std::size_t capacity = 47;

  Symbol() = default;
  explicit Symbol(std::string_view text) { assign(text); }

  // Values longer than `capacity` keep their first 30 characters, then '~' and a
  // 16-hex-digit hash of the whole value: still unique in practice, still readable.
  void assign(std::string_view text);
  void clear() { size_ = 0; }

  std::string_view view() const { return {data_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  friend bool operator==(const Symbol& a, const Symbol& b) { return a.view() == b.view(); }

 private:
  std::array<char, capacity> data_{};
  std::uint8_t size_ = 0;
};

struct SymbolHash {
  std::size_t operator()(const Symbol& s) const { return std::hash<std::string_view>{}(s.view()); }
};

}  // namespace flowlier::models
