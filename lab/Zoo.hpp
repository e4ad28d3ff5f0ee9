#pragma once
// The benign zoo: everyday behaviours that are not incidents but look like them to a
// naive detector (intermittent sessions, bursts, new peers, hosts without history). Which
// members an estate has and their hours, periods and sizes are drawn per seed
// (lab/ZooPlanner.cpp); lab/ZooTraffic.cpp turns them into records. See lab/README.md.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lab/Environment.hpp"
#include "lab/SimRandom.hpp"
#include "lab/ZipfPool.hpp"

namespace flowlier::lab::sim {

// Every member's name, in the order they are drawn and reported.
inline const std::array<std::string, 14> zoo_member_names = {
    "admin-ssh",        "internet-ssh", "internet-scanning", "dns-recursion", "windows-update",
    "backups",          "cron",         "ci-runners",        "autoscale",     "nat-gateway",
    "lb-health-checks", "kubernetes",   "patch-day",         "saas-agents"};

// A peer of a benign job: an internal host (host >= 0) or an external address.
struct Peer {
  std::int32_t host = -1;
  std::uint32_t address = 0;
};

struct AdminSsh {  // bastions: admins' SSH sessions in working hours, none at night
  std::vector<std::uint32_t> admins;
  double busy_share = 0.3;  // share of working-hour minutes with a session
  int first_hour = 8;       // working hours [first_hour, last_hour) on weekdays
  int last_hour = 18;
  double hop_share = 0.3;  // sessions that hop on to an internal host
};

struct InternetNoise {                   // constant background of the internet against exposed hosts
  std::vector<std::size_t> exposed;      // hosts with public addresses
  std::vector<std::size_t> ssh_exposed;  // of those, hosts where SSH attempts land (rejected)
  double probes_per_host = 0.5;          // single probes per minute on random ports
  double ssh_per_host = 1.0;             // rejected SSH attempts per minute
};

struct WindowsFleet {
  ZipfPool microsoft;                 // update/telemetry endpoints; big pool, many first contacts
  std::vector<int> telemetry_period;  // minutes, per windows host
  std::vector<int> update_hour;       // hour of day of each host's update check burst
  double update_bytes = 1e8;          // typical download of a burst
};

struct BackupJob {
  std::size_t host = 0;
  Peer target;
  std::int64_t start_second = 0;  // of day
  int minutes = 30;
  double bytes = 5e9;
};

struct CronJob {
  std::size_t host = 0;
  Peer target;
  std::uint16_t port = 443;
  int period_minutes = 7;
  int offset_minutes = 0;
  int connections = 3;
  double bytes = 1e5;  // per connection, mostly response
};

struct CiFleet {
  ZipfPool mirrors;  // package mirrors; builds also reach new peers
  double builds_per_hour = 3;
  double new_peer_share = 0.2;
};

struct Autoscaled {  // one instance of one day: appears in the morning, leaves in the evening
  std::size_t host = 0;
  std::int64_t arrive = 0;
  std::int64_t leave = 0;
};

struct NatGateway {
  ZipfPool popular;  // where private hosts usually go
  double flows_per_minute = 10;
  double new_peer_share = 0.15;
};

struct LoadBalancer {
  int checks_per_minute = 4;  // health checks per target per lb node
  double client_share = 0.3;  // share of internet web traffic that enters through the lb
};

struct Kubernetes {
  int pods_per_node = 12;
  int min_life_minutes = 10;
  int max_life_minutes = 360;
  double flows_per_pod = 1.5;
};

struct PatchDay {
  std::int64_t start = 0;  // Unix seconds; 0 = none in this run
  int minutes = 90;
  double bytes_per_host = 2e8;
  ZipfPool mirrors;
};

struct SaasAgent {
  std::string name;
  std::uint16_t port = 443;
  int period_minutes = 5;
  double new_peer_share = 0.3;  // check-ins that go to an address never used before
  std::vector<std::uint32_t> endpoints;
  std::vector<std::size_t> hosts;
};

struct Zoo {
  std::vector<std::string> members;  // names of the members present, in fixed order
  bool has(const std::string& name) const;
  // Leaves a member out (its parameters stay drawn, so nothing else changes).
  void exclude(const std::string& name);

  AdminSsh admin_ssh;
  InternetNoise internet;
  WindowsFleet windows;
  std::vector<BackupJob> backups;
  std::vector<CronJob> cron;
  CiFleet ci;
  std::vector<Autoscaled> autoscaled;
  NatGateway nat;
  LoadBalancer lb;
  Kubernetes k8s;
  PatchDay patch;
  std::vector<SaasAgent> agents;
  std::vector<std::uint32_t> dns_authorities;  // resolvers' recursion targets (popular)
  double dns_new_authority_share = 0.1;

  // Which members act on a host, for the labels' estate inventory.
  std::vector<std::vector<std::string>> host_members;
};

}  // namespace flowlier::lab::sim
