#pragma once
// An IPv4 or IPv6 address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowlier::pipeline {

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress from_v4(std::uint32_t host_order);

  // Parses dotted IPv4 or RFC 4291 IPv6 text (with "::" and embedded IPv4). No allocation.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const;
  std::uint32_t v4() const;  // host order; only meaningful when is_v4()
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }

  // RFC 1918, loopback, link-local, CGNAT (100.64/10), IPv6 ULA (fc00::/7) and link-local.
  bool is_private() const;

  std::string str() const;
  // Writes the text form into out (at least 46 bytes); returns the length.
  std::size_t write(char* out) const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

// A CIDR block such as 10.0.0.0/8 or fd00::/8.
struct Cidr {
  IpAddress network;
  int prefix_bits = 0;  // counted over the 128-bit form (IPv4 /8 is 104 here)

  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
};

}  // namespace flowlier::pipeline
