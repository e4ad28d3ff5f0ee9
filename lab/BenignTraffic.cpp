#include "lab/BenignTraffic.hpp"

#include <cmath>
#include <numbers>

namespace flowlier::lab::sim {

BenignTraffic::BenignTraffic(const SimConfig& config, const Plan& plan, FlowEmitter& emit)
    : config_(config),
      plan_(plan),
      emit_(emit),
      env_(emit.env()),
      rng_(stream(config.seed, 3)),
      rate_(config.scale * plan.traffic) {
  // Streaming replication from the first db host to the others, for the whole run.
  const auto& db = env_.of(Role::db);
  for (std::size_t i = 1; i < db.size(); ++i) {
    Session s;
    s.client = emit_.internal(db[0]);
    s.server = emit_.internal(db[i]);
    s.sport = ephemeral_port(rng_);
    s.dport = 5432;
    s.start = config_.start - hour;
    s.end = config_.start + config_.duration_seconds + hour;
    s.request_bytes_per_minute = uniform_real(rng_, 15e6, 30e6);
    s.response_bytes_per_minute = s.request_bytes_per_minute * 0.02;
    s.request_packet_size = 1400;
    s.response_packet_size = 64;
    emit_.add_session(s);
  }
  for (std::size_t i = 0; i < env_.of(Role::batch).size(); ++i) {
    batch_minute_.push_back(static_cast<int>((7 + 23 * i) % 60));
  }
}

double BenignTraffic::activity(std::int64_t w) {
  const std::int64_t h = floor_to(w, hour);
  if (h != noise_hour_) {
    noise_hour_ = h;
    hour_noise_ = std::exp(std::normal_distribution<double>(0.0, 0.08)(rng_));
  }
  const double shape = (1 + std::cos(2 * std::numbers::pi * (hour_of_day(w) - 15) / 24)) / 2;
  double a = Rates::night_level + (1 - Rates::night_level) * shape;
  if (weekend(w)) a *= 0.7;
  return a * hour_noise_ * std::exp(std::normal_distribution<double>(0.0, 0.12)(rng_));
}

void BenignTraffic::window(double a) {
  w_ = emit_.window();
  internet_to_web(a);
  web_to_app(a);
  app_to_db(a);
  app_to_api(a);
  dns_and_ntp(a);
  batch_jobs();
}

bool BenignTraffic::storm(std::size_t host, std::uint16_t port) const {
  for (const auto& inj : plan_.injections) {
    if (inj.type == IncidentType::reject_storm && inj.port == port && inj.hosts[0] == host && inj.start <= w_ &&
        w_ < inj.end) {
      return true;
    }
  }
  return false;
}

void BenignTraffic::rejected_with_retries(Endpoint c, std::size_t server, std::uint16_t dport) {
  const int tries = uniform_int(rng_, 1, 3);
  for (int i = 0; i < tries; ++i) {
    emit_.rejected(rng_, c, server, ephemeral_port(rng_), dport, static_cast<std::uint32_t>(uniform_int(rng_, 1, 3)));
  }
}

void BenignTraffic::internet_to_web(double a) {
  const auto& web = env_.of(Role::web);
  const double base = Rates::internet_web * rate_ * a;
  const bool fresh = w_ >= plan_.changes.new_clients_start;
  const int n = poisson(rng_, base * (fresh ? 1 + Rates::new_client_share : 1));
  for (int i = 0; i < n; ++i) {
    const bool from_new = fresh && chance(rng_, Rates::new_client_share / (1 + Rates::new_client_share));
    const std::uint32_t client = from_new ? plan_.changes.new_clients.pick(rng_) : plan_.clients.pick(rng_);
    const std::size_t server = pick(rng_, web);
    const std::uint16_t port = chance(rng_, 0.9) ? 443 : 80;
    if (port == 443 && storm(server, 443)) {
      rejected_with_retries(FlowEmitter::external(client), server, port);
    } else if (chance(rng_, 0.03)) {
      Session s;
      s.client = FlowEmitter::external(client);
      s.server = emit_.internal(server);
      s.sport = ephemeral_port(rng_);
      s.dport = port;
      s.start = emit_.flow_start(rng_);
      s.end = s.start + uniform_int(rng_, 2, 20) * minute;
      s.request_bytes_per_minute = uniform_real(rng_, 2e3, 2e4);
      s.response_bytes_per_minute = uniform_real(rng_, 2e4, 5e5);
      s.request_packet_size = 120;
      s.response_packet_size = 1200;
      emit_.add_session(s);
    } else {
      emit_.short_tcp(rng_, FlowEmitter::external(client), emit_.internal(server), port,
                      static_cast<std::uint32_t>(uniform_int(rng_, 3, 20)), uniform_real(rng_, 60, 400),
                      static_cast<std::uint32_t>(uniform_int(rng_, 3, 60)), uniform_real(rng_, 400, 1460));
    }
  }
}

void BenignTraffic::web_to_app(double a) {
  const bool doubled = plan_.changes.deploy_web_tier && w_ >= plan_.changes.deploy_start;
  const int n = poisson(rng_, Rates::web_app * rate_ * a * (doubled ? 2 : 1));
  for (int i = 0; i < n; ++i) {
    emit_.short_tcp(rng_, emit_.internal(pick(rng_, env_.of(Role::web))),
                    emit_.internal(pick(rng_, env_.of(Role::app))), 8080,
                    static_cast<std::uint32_t>(uniform_int(rng_, 3, 15)), uniform_real(rng_, 100, 600),
                    static_cast<std::uint32_t>(uniform_int(rng_, 3, 40)), uniform_real(rng_, 300, 1400), 2);
  }
}

void BenignTraffic::app_to_db(double a) {
  const bool doubled = !plan_.changes.deploy_web_tier && w_ >= plan_.changes.deploy_start;
  const auto& db = env_.of(Role::db);
  const int n = poisson(rng_, Rates::app_db * rate_ * a * (doubled ? 2 : 1));
  for (int i = 0; i < n; ++i) {
    const Endpoint client = emit_.internal(pick(rng_, env_.of(Role::app)));
    const std::size_t server = chance(rng_, 0.5) ? db[0] : pick(rng_, db);
    if (storm(server, 5432)) {
      rejected_with_retries(client, server, 5432);
      continue;
    }
    emit_.short_tcp(rng_, client, emit_.internal(server), 5432, static_cast<std::uint32_t>(uniform_int(rng_, 3, 12)),
                    uniform_real(rng_, 80, 500), static_cast<std::uint32_t>(uniform_int(rng_, 2, 80)),
                    uniform_real(rng_, 200, 1400), 2);
  }
}

void BenignTraffic::app_to_api(double a) {
  const int n = poisson(rng_, Rates::app_api * rate_ * a);
  for (int i = 0; i < n; ++i) {
    emit_.short_tcp(rng_, emit_.internal(pick(rng_, env_.of(Role::app))), FlowEmitter::external(pick(rng_, plan_.apis)),
                    443, static_cast<std::uint32_t>(uniform_int(rng_, 4, 20)), uniform_real(rng_, 100, 800),
                    static_cast<std::uint32_t>(uniform_int(rng_, 4, 30)), uniform_real(rng_, 200, 1400));
  }
}

void BenignTraffic::dns_and_ntp(double a) {
  const auto& resolvers = env_.of(Role::dns);
  for (std::size_t h = 0; h < env_.hosts().size(); ++h) {
    const Role role = env_.host(h).role;
    // Resolvers ask upstream themselves; autoscaled hosts' DNS is part of their own traffic.
    if (role == Role::dns || role == Role::autoscale) continue;
    const int queries = poisson(rng_, Rates::dns_per_host * (0.4 + 0.6 * a));
    for (int q = 0; q < queries; ++q) {
      const std::size_t resolver = pick(rng_, resolvers);
      emit_.udp(rng_, emit_.internal(h), emit_.internal(resolver), 53,
                static_cast<std::uint64_t>(uniform_int(rng_, 60, 90)),
                static_cast<std::uint64_t>(uniform_int(rng_, 90, 300)));
      if (chance(rng_, 0.15)) {  // cache miss: the resolver asks upstream
        emit_.udp(rng_, emit_.internal(resolver), FlowEmitter::external(pick(rng_, plan_.upstream_dns)), 53,
                  static_cast<std::uint64_t>(uniform_int(rng_, 60, 90)),
                  static_cast<std::uint64_t>(uniform_int(rng_, 90, 400)));
      }
    }
    if (chance(rng_, 1.0 / 16))
      emit_.udp(rng_, emit_.internal(h), FlowEmitter::external(pick(rng_, plan_.ntp)), 123, 76, 76);
  }
}

void BenignTraffic::batch_jobs() {
  const auto& batch = env_.of(Role::batch);
  const int minute_of_hour = static_cast<int>(second_of_day(w_) % hour / minute);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    if (batch_minute_[b] != minute_of_hour) continue;
    const std::int64_t start = emit_.flow_start(rng_);
    const std::int64_t end = start + uniform_int(rng_, 6, 15) * minute;
    Session read;
    read.client = emit_.internal(batch[b]);
    read.server = emit_.internal(env_.of(Role::db)[0]);
    read.sport = ephemeral_port(rng_);
    read.dport = 5432;
    read.start = start;
    read.end = end;
    read.request_bytes_per_minute = uniform_real(rng_, 5e4, 2e5);
    read.response_bytes_per_minute = uniform_real(rng_, 2e7, 6e7);
    read.request_packet_size = 200;
    read.response_packet_size = 1400;
    emit_.add_session(read);
    Session upload = read;
    upload.server = FlowEmitter::external(pick(rng_, plan_.s3));
    upload.sport = ephemeral_port(rng_);
    upload.dport = 443;
    upload.start = start + uniform_int(rng_, 30, 90);
    upload.end = end + uniform_int(rng_, 30, 90);
    upload.request_bytes_per_minute = uniform_real(rng_, 4e7, 1.2e8);
    upload.response_bytes_per_minute = uniform_real(rng_, 5e5, 2e6);
    upload.request_packet_size = 1400;
    upload.response_packet_size = 60;
    emit_.add_session(upload);
  }
}

}  // namespace flowlier::lab::sim
