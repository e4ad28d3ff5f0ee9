#pragma once
// The simulated estate: one VPC (10.0.0.0/16) with a subnet per role and the hosts in it,
// plus helpers for IPv4 text and random public addresses. Built once per run from the seed;
// how many hosts each role has is the estate's shape (drawn per seed by the planner).
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace flowlier::lab {

// The first six are the core estate; the rest exist only when the seed's benign zoo has them.
enum class Role : std::uint8_t { dns, web, app, db, batch, bastion, nat, lb, k8s, ci, windows, autoscale };
inline constexpr std::size_t role_count = 12;
const char* role_name(Role role);

struct Host {
  Role role = Role::web;
  std::uint32_t address = 0;  // private IPv4, host byte order
  std::string eni;            // "eni-" + 17 hex digits
  std::string instance_id;    // "i-" + 17 hex digits
  std::string subnet_id;      // "subnet-" + 17 hex digits
};

// Hosts per role. Subnet 10.0.<role index>.0/24, except autoscaled hosts, which get
// 10.0.64.0/18 so that every instance of every day has an address never seen before.
using EstateShape = std::array<int, role_count>;

class Environment {
 public:
  // Host counts are the base counts (2 dns, 6 web, 6 app, 3 db, 2 batch, 1 bastion) times
  // scale, rounded, at least 1 and at most 240 per role; subnet 10.0.<role>.0/24.
  static Environment build(double scale, std::mt19937_64& rng);
  // Exactly these counts (clamped to 0..240 per role; autoscale to 0..16000).
  static Environment build(const EstateShape& shape, std::mt19937_64& rng);

  const std::string& account_id() const { return account_id_; }
  const std::string& vpc_id() const { return vpc_id_; }
  const std::vector<Host>& hosts() const { return hosts_; }
  const Host& host(std::size_t index) const { return hosts_[index]; }
  // Indices into hosts() of the hosts with this role, in address order.
  const std::vector<std::size_t>& of(Role role) const {
    return by_role_[static_cast<std::size_t>(role)];
  }
  std::optional<std::size_t> find(std::uint32_t address) const;

 private:
  std::string account_id_ = "123456789012";
  std::string vpc_id_;
  std::vector<Host> hosts_;
  std::array<std::vector<std::size_t>, role_count> by_role_;
  std::map<std::uint32_t, std::size_t> by_address_;
};

std::uint32_t ipv4(unsigned a, unsigned b, unsigned c, unsigned d);
std::string ipv4_text(std::uint32_t address);
// Writes dotted text into out (at least 16 bytes); returns the length.
std::size_t write_ipv4(std::uint32_t address, char* out);
// A uniformly drawn globally routable unicast IPv4 address (no RFC 1918, loopback,
// link-local, CGNAT, multicast, documentation or reserved ranges).
std::uint32_t random_public_ipv4(std::mt19937_64& rng);
// `digits` lowercase hex digits drawn from rng.
std::string random_hex(std::mt19937_64& rng, int digits);

}  // namespace flowlier::lab
