#pragma once
// Everything a run decides before the first record: the estate's external peers, the
// benign zoo, the benign changes and the incidents to inject, plus the labels that
// describe them. Built by lab/Planner.cpp, read by the traffic generators.
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "lab/Environment.hpp"
#include "lab/Labels.hpp"
#include "lab/SimRandom.hpp"
#include "lab/ZipfPool.hpp"
#include "lab/Zoo.hpp"

namespace flowlier::lab::sim {

enum class IncidentType : std::uint8_t {
  port_scan,
  sweep,
  exfiltration,
  ddos,
  brute_force,
  unusual_port,
  beacon,
  reject_storm,
  slow_scan,
  slow_exfiltration,
  brute_force_burst
};
inline constexpr std::array<const char*, 11> incident_names = {
    "port-scan",        "sweep",  "exfiltration", "ddos",      "brute-force",
    "unusual-port",     "beacon", "reject-storm", "slow-scan", "slow-exfiltration",
    "brute-force-burst"};
// Incidents that run for hours; kept out of the last slots so they are not cut short.
inline bool long_running(IncidentType t) {
  return t == IncidentType::beacon || t == IncidentType::slow_scan || t == IncidentType::slow_exfiltration;
}

// Everything the generator needs to replay one incident, drawn at planning time.
struct Injection {
  IncidentType type = IncidentType::port_scan;
  std::int64_t start = 0;  // minute-aligned; active windows are [start, end)
  std::int64_t end = 0;
  std::vector<std::size_t> hosts;      // victims, or the acting internal host
  std::uint32_t actor = 0;             // external actor address, 0 if none
  std::vector<std::uint32_t> sources;  // ddos sources
  std::vector<std::uint32_t> targets;  // sweep targets
  std::vector<std::uint16_t> ports;    // scanned ports / sweep ports per target
  std::vector<std::int64_t> times;     // beacon / slow-scan / slow-exfiltration contact times
  double rate = 0;                     // per minute: flows, or bytes for exfiltration
  std::uint16_t port = 0;
  std::uint16_t actor_port = 0;
  Rng rng;
  std::size_t next = 0;  // cursor into times
};

struct Changes {
  std::int64_t deploy_start = 0;
  bool deploy_web_tier = true;  // true: web -> app calls double; false: app -> db calls double
  std::int64_t new_clients_start = 0;
  ZipfPool new_clients;
};

// Public addresses handed out once each, so actors never collide with benign peers.
class AddressBook {
 public:
  std::vector<std::uint32_t> fresh(Rng& rng, std::size_t n);
  std::uint32_t fresh_one(Rng& rng) { return fresh(rng, 1).front(); }
  void reserve(std::uint32_t address) { used_.insert(address); }

 private:
  std::set<std::uint32_t> used_;
};

struct Plan {
  Labels labels;
  std::vector<Injection> injections;
  Changes changes;
  Zoo zoo;
  double traffic = 1.0;  // the estate's busyness: multiplies the core rates (drawn per seed)
  ZipfPool clients;
  std::vector<std::uint32_t> apis;
  std::vector<std::uint32_t> s3;
  std::vector<std::uint32_t> ntp;
  std::vector<std::uint32_t> upstream_dns;
};

}  // namespace flowlier::lab::sim
