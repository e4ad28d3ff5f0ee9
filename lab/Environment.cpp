#include "lab/Environment.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::lab {

const char* role_name(Role role) {
  switch (role) {
    case Role::dns: return "dns";
    case Role::web: return "web";
    case Role::app: return "app";
    case Role::db: return "db";
    case Role::batch: return "batch";
    case Role::bastion: return "bastion";
    case Role::nat: return "nat";
    case Role::lb: return "lb";
    case Role::k8s: return "k8s";
    case Role::ci: return "ci";
    case Role::windows: return "windows";
    case Role::autoscale: return "autoscale";
  }
  return "?";
}

std::uint32_t ipv4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

std::size_t write_ipv4(std::uint32_t address, char* out) {
  std::size_t n = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const unsigned octet = (address >> shift) & 0xffu;
    if (octet >= 100) out[n++] = static_cast<char>('0' + octet / 100);
    if (octet >= 10) out[n++] = static_cast<char>('0' + octet / 10 % 10);
    out[n++] = static_cast<char>('0' + octet % 10);
    if (shift) out[n++] = '.';
  }
  return n;
}

std::string ipv4_text(std::uint32_t address) {
  char buf[16];
  return std::string(buf, write_ipv4(address, buf));
}

std::uint32_t random_public_ipv4(std::mt19937_64& rng) {
  for (;;) {
    const auto a = static_cast<std::uint32_t>(rng());
    const unsigned o1 = a >> 24;
    const unsigned o2 = (a >> 16) & 0xffu;
    const unsigned o3 = (a >> 8) & 0xffu;
    const unsigned o4 = a & 0xffu;
    if (o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224) continue;
    if (o1 == 100 && o2 >= 64 && o2 < 128) continue;
    if (o1 == 169 && o2 == 254) continue;
    if (o1 == 172 && o2 >= 16 && o2 < 32) continue;
    if (o1 == 192 && (o2 == 168 || (o2 == 0 && (o3 == 0 || o3 == 2)))) continue;
    if (o1 == 198 && (o2 == 18 || o2 == 19 || (o2 == 51 && o3 == 100))) continue;
    if (o1 == 203 && o2 == 0 && o3 == 113) continue;
    if (o4 == 0 || o4 == 255) continue;
    return a;
  }
}

std::string random_hex(std::mt19937_64& rng, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(digits));
  std::uint64_t bits = 0;
  int left = 0;
  for (int i = 0; i < digits; ++i) {
    if (left == 0) {
      bits = rng();
      left = 16;
    }
    out.push_back(hex[bits & 0xfu]);
    bits >>= 4;
    --left;
  }
  return out;
}

Environment Environment::build(double scale, std::mt19937_64& rng) {
  static constexpr int base_counts[6] = {2, 6, 6, 3, 2, 1};
  EstateShape shape{};
  for (std::size_t r = 0; r < 6; ++r) {
    shape[r] = static_cast<int>(std::clamp(std::lround(base_counts[r] * scale), 1L, 240L));
  }
  return build(shape, rng);
}

Environment Environment::build(const EstateShape& shape, std::mt19937_64& rng) {
  Environment env;
  env.vpc_id_ = "vpc-" + random_hex(rng, 17);
  for (std::size_t r = 0; r < role_count; ++r) {
    const auto role = static_cast<Role>(r);
    const bool autoscale = role == Role::autoscale;
    const int count = std::clamp(shape[r], 0, autoscale ? 16000 : 240);
    if (count == 0) continue;  // an absent role draws nothing, so the core estate stays put
    const std::string subnet = "subnet-" + random_hex(rng, 17);
    for (int i = 0; i < count; ++i) {
      Host h;
      h.role = role;
      const auto k = static_cast<unsigned>(i);
      h.address = autoscale ? ipv4(10, 0, 64 + k / 240, 10 + k % 240) : ipv4(10, 0, static_cast<unsigned>(r), 10 + k);
      h.eni = "eni-" + random_hex(rng, 17);
      h.instance_id = "i-" + random_hex(rng, 17);
      h.subnet_id = subnet;
      env.by_role_[r].push_back(env.hosts_.size());
      env.by_address_[h.address] = env.hosts_.size();
      env.hosts_.push_back(std::move(h));
    }
  }
  return env;
}

std::optional<std::size_t> Environment::find(std::uint32_t address) const {
  const auto it = by_address_.find(address);
  if (it == by_address_.end()) return std::nullopt;
  return it->second;
}

}  // namespace flowlier::lab
