#include "pipeline/IpAddress.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace flowlier::pipeline {

namespace {
constexpr std::array<std::uint8_t, 12> kV4Prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<std::uint32_t> parse_v4(std::string_view text) {
  std::uint32_t result = 0;
  int octets = 0;
  std::size_t i = 0;
  while (octets < 4) {
    if (i >= text.size()) return std::nullopt;
    std::uint32_t octet = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      octet = octet * 10 + static_cast<std::uint32_t>(text[i] - '0');
      ++i;
      if (++digits > 3) return std::nullopt;
    }
    if (digits == 0 || octet > 255) return std::nullopt;
    result = (result << 8) | octet;
    ++octets;
    if (octets < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return result;
}
}  // namespace

IpAddress IpAddress::from_v4(std::uint32_t host_order) {
  IpAddress a;
  std::memcpy(a.bytes_.data(), kV4Prefix.data(), kV4Prefix.size());
  a.bytes_[12] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[13] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[14] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[15] = static_cast<std::uint8_t>(host_order);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(text);
    if (!v4) return std::nullopt;
    return from_v4(*v4);
  }
  char buffer[46];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET6, buffer, a.bytes_.data()) != 1) return std::nullopt;
  return a;
}

bool IpAddress::is_v4() const { return std::memcmp(bytes_.data(), kV4Prefix.data(), kV4Prefix.size()) == 0; }

std::uint32_t IpAddress::v4() const {
  return (std::uint32_t{bytes_[12]} << 24) | (std::uint32_t{bytes_[13]} << 16) | (std::uint32_t{bytes_[14]} << 8) |
         std::uint32_t{bytes_[15]};
}

bool IpAddress::is_private() const {
  if (is_v4()) {
    const std::uint32_t a = v4();
    return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1u) || (a >> 16) == ((192u << 8) | 168u) ||
           (a >> 24) == 127 || (a >> 16) == ((169u << 8) | 254u) || (a >> 22) == ((100u << 2) | 1u);
  }
  if ((bytes_[0] & 0xfe) == 0xfc) return true;                       // fc00::/7
  if (bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80) return true;  // fe80::/10
  static constexpr std::array<std::uint8_t, 16> loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == loopback;
}

std::size_t IpAddress::write(char* out) const {
  if (is_v4()) {
    // Each octet from a table of its digits (then its length): this runs for every
    // address of every normalized record.
    static constexpr auto kOctets = [] {
      std::array<std::array<char, 4>, 256> t{};
      for (unsigned v = 0; v < 256; ++v) {
        const unsigned n = v >= 100 ? 3 : v >= 10 ? 2 : 1;
        unsigned x = v;
        for (unsigned i = n; i > 0; --i) {
          t[v][i - 1] = static_cast<char>('0' + x % 10);
          x /= 10;
        }
        t[v][3] = static_cast<char>(n);
      }
      return t;
    }();
    char* p = out;
    for (int i = 12; i < 16; ++i) {
      const auto& octet = kOctets[bytes_[i]];
      std::memcpy(p, octet.data(), 3);  // out holds at least 46 bytes, so the spare digits fit
      p += octet[3];
      *p++ = '.';
    }
    return static_cast<std::size_t>(p - out) - 1;  // no dot after the last octet
  }
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  std::size_t n = std::strlen(buffer);
  std::memcpy(out, buffer, n);
  return n;
}

std::string IpAddress::str() const {
  char buffer[48];
  return std::string(buffer, write(buffer));
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int bits = 0;
  auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + (c - '0');
  }
  const int max_bits = address->is_v4() ? 32 : 128;
  if (bits > max_bits) return std::nullopt;
  return Cidr{*address, address->is_v4() ? bits + 96 : bits};
}

bool Cidr::contains(const IpAddress& address) const {
  const auto& a = address.bytes();
  const auto& n = network.bytes();
  int bits = prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (n[i] & mask)) return false;
  }
  return true;
}

}  // namespace flowlier::pipeline
