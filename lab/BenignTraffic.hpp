#pragma once
// The core estate's everyday traffic: internet clients to the web tier, web -> app ->
// db, app -> external APIs, DNS and NTP, database replication and hourly batch jobs,
// with a diurnal and weekly cycle and the benign changes (deploy, new clients).
#include <cstdint>
#include <vector>

#include "lab/FlowEmitter.hpp"
#include "lab/SimPlan.hpp"
#include "lab/Simulator.hpp"

namespace flowlier::lab::sim {

// Peak-hour rates per minute at scale 1 and traffic 1.0 (activity 1.0); see lab/README.md.
struct Rates {
  static constexpr double internet_web = 80;
  static constexpr double web_app = 40;
  static constexpr double app_db = 25;
  static constexpr double app_api = 6;
  static constexpr double dns_per_host = 1.0;
  static constexpr double night_level = 0.15;  // activity at 03:00 relative to 15:00
  static constexpr double new_client_share = 0.35;
};

class BenignTraffic {
 public:
  BenignTraffic(const SimConfig& config, const Plan& plan, FlowEmitter& emit);

  // Diurnal activity of the window: 1.0 at 15:00 UTC, Rates::night_level at 03:00, cosine
  // in between, 0.7 on weekends, with hourly and per-minute lognormal noise.
  double activity(std::int64_t w);
  // This window's core records (sessions are ticked by the caller, once for everyone).
  void window(double activity);

 private:
  void internet_to_web(double a);
  void web_to_app(double a);
  void app_to_db(double a);
  void app_to_api(double a);
  void dns_and_ntp(double a);
  void batch_jobs();
  // A reject-storm incident makes the victim's security group refuse its service.
  bool storm(std::size_t host, std::uint16_t port) const;
  void rejected_with_retries(Endpoint c, std::size_t server, std::uint16_t dport);

  const SimConfig& config_;
  const Plan& plan_;
  FlowEmitter& emit_;
  const Environment& env_;
  Rng rng_;
  double rate_ = 1.0;  // scale x the estate's traffic level
  std::vector<int> batch_minute_;
  std::int64_t w_ = 0;
  std::int64_t noise_hour_ = -1;
  double hour_noise_ = 1.0;
};

}  // namespace flowlier::lab::sim
