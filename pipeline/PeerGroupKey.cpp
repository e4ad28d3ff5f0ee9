#include "pipeline/PeerGroupKey.hpp"

#include <cstdio>
#include <string_view>

#include "core/StateIo.hpp"
#include "pipeline/IpAddress.hpp"

namespace flowlier::pipeline {

std::optional<PeerGroupKey> peer_group_of(const models::EntityKey& key) {
  if (key.kind != models::EntityKind::address) return std::nullopt;
  const auto address = IpAddress::parse(key.id.view());
  if (!address) return std::nullopt;
  PeerGroupKey g;
  g.v4 = address->is_v4();
  g.prefix_bits = g.v4 ? 96 + 24 : 64;
  g.network = address->bytes();
  for (int bit = g.prefix_bits; bit < 128; ++bit) {
    g.network[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  std::uint64_t h = detectors::fnv1a64(std::string_view(reinterpret_cast<const char*>(g.network.data()), 16));
  const char meta[2] = {static_cast<char>(key.kind), static_cast<char>(g.prefix_bits)};
  g.hash = detectors::fnv1a64(std::string_view(meta, 2), h);
  return g;
}

std::string PeerGroupKey::label() const {
  if (v4) {
    const IpAddress a = IpAddress::from_v4((std::uint32_t{network[12]} << 24) | (std::uint32_t{network[13]} << 16) |
                                           (std::uint32_t{network[14]} << 8) | std::uint32_t{network[15]});
    return a.str() + "/" + std::to_string(prefix_bits - 96);
  }
  // IpAddress is built from text only: the masked address's words, then its canonical form.
  char text[48];
  std::size_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const unsigned word = (unsigned{network[2 * i]} << 8) | network[2 * i + 1];
    n += static_cast<std::size_t>(std::snprintf(text + n, sizeof text - n, i ? ":%x" : "%x", word));
  }
  const auto a = IpAddress::parse(std::string_view(text, n));
  return (a ? a->str() : std::string(text, n)) + "/" + std::to_string(prefix_bits);
}

}  // namespace flowlier::pipeline
