#pragma once
// The benign zoo's records, one function per member (see lab/Zoo.hpp for what each is).
#include <array>
#include <cstdint>
#include <vector>

#include "lab/FlowEmitter.hpp"
#include "lab/SimPlan.hpp"

namespace flowlier::lab::sim {

class ZooTraffic {
 public:
  ZooTraffic(const Plan& plan, FlowEmitter& emit, std::uint64_t seed);

  // This window's zoo records; `activity` is the estate's diurnal level (1.0 at the peak).
  void window(double activity);

 private:
  void admin_ssh();
  void internet_ssh();
  void internet_scanning();
  void dns_recursion(double a);
  void windows_update(double a);
  void backups();
  void cron();
  void ci_runners();
  void autoscale(double a);
  void nat_gateway(double a);
  void lb_health_checks(double a);
  void kubernetes(double a);
  void patch_day();
  void saas_agents();

  bool working_hours() const;
  std::uint32_t new_external() { return random_public_ipv4(rng_); }

  struct Pod {
    std::uint32_t address = 0;
    std::int64_t dies = 0;
  };
  struct Build {
    std::size_t runner = 0;
    std::int64_t end = 0;
  };

  const Plan& plan_;
  const Zoo& zoo_;
  FlowEmitter& emit_;
  const Environment& env_;
  Rng rng_;  // the running member's stream (swapped in from member_rngs_)
  std::array<Rng, zoo_member_names.size()> member_rngs_;
  std::int64_t w_ = 0;
  std::vector<std::vector<Pod>> pods_;   // per k8s node
  std::vector<std::uint32_t> next_pod_;  // per k8s node: last octet cursor
  std::vector<Build> builds_;
};

}  // namespace flowlier::lab::sim
