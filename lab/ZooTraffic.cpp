#include "lab/ZooTraffic.hpp"

#include <algorithm>

namespace flowlier::lab::sim {

namespace {
// Ports the internet probes most; the rest of the probes pick any port.
constexpr std::uint16_t probed_ports[] = {22,   23, 3389, 445, 1433, 8080, 3306,  5900,
                                          6379, 25, 21,   139, 8443, 9200, 27017, 5060};

bool open_port(Role role, std::uint16_t port) {
  return (role == Role::web || role == Role::lb) && (port == 80 || port == 443);
}

std::uint32_t pod_address(std::size_t node, std::uint32_t k) {
  return ipv4(10, 0, 32 + static_cast<unsigned>(node % 32), 10 + k % 240);
}
}  // namespace

ZooTraffic::ZooTraffic(const Plan& plan, FlowEmitter& emit, std::uint64_t seed)
    : plan_(plan), zoo_(plan.zoo), emit_(emit), env_(emit.env()) {
  for (std::size_t i = 0; i < member_rngs_.size(); ++i) member_rngs_[i] = stream(seed, 600 + i);
  pods_.resize(env_.of(Role::k8s).size());
  next_pod_.resize(pods_.size(), 0);
}

bool ZooTraffic::working_hours() const {
  const double h = hour_of_day(w_);
  return !weekend(w_) && h >= zoo_.admin_ssh.first_hour && h < zoo_.admin_ssh.last_hour;
}

void ZooTraffic::window(double a) {
  w_ = emit_.window();
  // Each member runs when the estate has it (and it was not excluded), drawing from its own
  // stream, so that leaving one out changes nothing in the others.
  auto run = [&](std::size_t index, auto&& member) {
    if (!zoo_.has(zoo_member_names[index])) return;
    std::swap(rng_, member_rngs_[index]);
    member();
    std::swap(rng_, member_rngs_[index]);
  };
  run(0, [&] { admin_ssh(); });
  run(1, [&] { internet_ssh(); });
  run(2, [&] { internet_scanning(); });
  run(3, [&] { dns_recursion(a); });
  run(4, [&] { windows_update(a); });
  run(5, [&] { backups(); });
  run(6, [&] { cron(); });
  run(7, [&] { ci_runners(); });
  run(8, [&] { autoscale(a); });
  run(9, [&] { nat_gateway(a); });
  run(10, [&] { lb_health_checks(a); });
  run(11, [&] { kubernetes(a); });
  run(12, [&] { patch_day(); });
  run(13, [&] { saas_agents(); });
}

// Admins log in to the bastion in working hours: sessions of 4-90 kB in about busy_share
// of the minutes, none at night or at weekends; some hop on to an internal host.
void ZooTraffic::admin_ssh() {
  if (!working_hours()) return;
  for (const std::size_t bastion : env_.of(Role::bastion)) {
    if (!chance(rng_, zoo_.admin_ssh.busy_share)) continue;
    const double total = log_uniform(rng_, 4e3, 9e4);
    const auto admin = FlowEmitter::external(pick(rng_, zoo_.admin_ssh.admins));
    emit_.sized_tcp(rng_, admin, emit_.internal(bastion), 22, total * 0.3, total * 0.7, 50);
    if (chance(rng_, zoo_.admin_ssh.hop_share)) {
      std::vector<std::size_t> inner = env_.of(Role::app);
      inner.insert(inner.end(), env_.of(Role::db).begin(), env_.of(Role::db).end());
      emit_.sized_tcp(rng_, emit_.internal(bastion), emit_.internal(pick(rng_, inner)), 22, total * 0.25, total * 0.6,
                      50);
    }
  }
}

// A steady trickle of SSH (and RDP on Windows) attempts from anywhere, all rejected.
void ZooTraffic::internet_ssh() {
  for (const std::size_t host : zoo_.internet.ssh_exposed) {
    const int n = poisson(rng_, zoo_.internet.ssh_per_host);
    const bool windows = env_.host(host).role == Role::windows;
    for (int i = 0; i < n; ++i) {
      const std::uint16_t port = windows && chance(rng_, 0.5) ? 3389 : 22;
      emit_.rejected(rng_, FlowEmitter::external(new_external()), host, ephemeral_port(rng_), port,
                     static_cast<std::uint32_t>(uniform_int(rng_, 1, 3)));
    }
  }
}

// Single probes from random sources on random ports: REJECT, or a tiny ACCEPT on open ports.
void ZooTraffic::internet_scanning() {
  for (const std::size_t host : zoo_.internet.exposed) {
    const int n = poisson(rng_, zoo_.internet.probes_per_host);
    for (int i = 0; i < n; ++i) {
      const auto port = chance(rng_, 0.7)
                            ? probed_ports[uniform_int(rng_, 0, static_cast<int>(std::size(probed_ports)) - 1)]
                            : static_cast<std::uint16_t>(uniform_int(rng_, 1, 65535));
      const auto scanner = FlowEmitter::external(new_external());
      const std::uint16_t sport = chance(rng_, 0.5) ? 54321 : ephemeral_port(rng_);
      if (open_port(env_.host(host).role, port)) {
        const std::int64_t t0 = emit_.flow_start(rng_);
        emit_.connection(scanner, emit_.internal(host), ephemeral_port(rng_), port, 6, 1, 44, 1, 44, t0, t0, 2, 18);
      } else {
        emit_.rejected(rng_, scanner, host, sport, port, static_cast<std::uint32_t>(uniform_int(rng_, 1, 2)));
      }
    }
  }
}

// Resolvers recurse to authoritative servers; a share of those were never asked before.
void ZooTraffic::dns_recursion(double a) {
  for (const std::size_t resolver : env_.of(Role::dns)) {
    const int n = poisson(rng_, 2.0 * a);
    for (int i = 0; i < n; ++i) {
      const std::uint32_t auth =
          chance(rng_, zoo_.dns_new_authority_share) ? new_external() : pick(rng_, zoo_.dns_authorities);
      emit_.udp(rng_, emit_.internal(resolver), FlowEmitter::external(auth), 53,
                static_cast<std::uint64_t>(uniform_int(rng_, 60, 100)),
                static_cast<std::uint64_t>(uniform_int(rng_, 100, 900)));
    }
  }
}

// Windows hosts: periodic telemetry, browsing in working hours, a daily update check that
// downloads in a burst, and bigger downloads on patch Tuesday.
void ZooTraffic::windows_update(double a) {
  const auto& hosts = env_.of(Role::windows);
  const std::int64_t m = w_ / minute;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto self = emit_.internal(hosts[i]);
    if ((m + static_cast<std::int64_t>(i) * 3) % zoo_.windows.telemetry_period[i] == 0) {
      emit_.sized_tcp(rng_, self, FlowEmitter::external(zoo_.windows.microsoft.pick(rng_)), 443,
                      log_uniform(rng_, 1e3, 2e4), log_uniform(rng_, 1e3, 1e4));
    }
    const int browse = poisson(rng_, working_hours() ? 2.0 * a : 0.1);
    for (int k = 0; k < browse; ++k) {
      const std::uint32_t site = chance(rng_, 0.5) ? zoo_.windows.microsoft.pick(rng_) : new_external();
      emit_.sized_tcp(rng_, self, FlowEmitter::external(site), chance(rng_, 0.85) ? 443 : 80,
                      log_uniform(rng_, 5e2, 5e3), log_uniform(rng_, 2e3, 5e5));
    }
    const bool tuesday = day_of_week(w_) == 2;
    const std::int64_t burst_start = floor_to(w_, day) + zoo_.windows.update_hour[i] * hour;
    const int burst_minutes = tuesday ? 45 : 12;
    if (w_ >= burst_start && w_ < burst_start + burst_minutes * minute) {
      const double bytes = zoo_.windows.update_bytes * (tuesday ? 3.0 : 1.0) / burst_minutes;
      const int connections = uniform_int(rng_, 2, 6);
      for (int k = 0; k < connections; ++k) {
        emit_.sized_tcp(rng_, self, FlowEmitter::external(zoo_.windows.microsoft.pick(rng_)), 443,
                        bytes / 200 / connections, bytes / connections * uniform_real(rng_, 0.5, 1.5), 50);
      }
    }
  }
}

// Nightly backups: a large upload from each source to the backup target.
void ZooTraffic::backups() {
  for (const auto& b : zoo_.backups) {
    if (second_of_day(w_) != b.start_second) continue;
    Session s;
    s.client = emit_.internal(b.host);
    s.server = b.target.host >= 0 ? emit_.internal(static_cast<std::size_t>(b.target.host))
                                  : FlowEmitter::external(b.target.address);
    s.sport = ephemeral_port(rng_);
    s.dport = b.target.host >= 0 ? 873 : 443;
    s.start = emit_.flow_start(rng_);
    s.end = s.start + b.minutes * minute;
    s.request_bytes_per_minute = b.bytes / b.minutes * uniform_real(rng_, 0.7, 1.3);
    s.response_bytes_per_minute = s.request_bytes_per_minute * 0.01;
    s.request_packet_size = 1400;
    s.response_packet_size = 60;
    emit_.add_session(s);
  }
}

// Jobs with odd periods (7, 13, 37 min, 2.5 h...): a burst of connections each run.
void ZooTraffic::cron() {
  const std::int64_t m = w_ / minute;
  for (const auto& c : zoo_.cron) {
    if ((m - c.offset_minutes) % c.period_minutes != 0) continue;
    const auto target = c.target.host >= 0 ? emit_.internal(static_cast<std::size_t>(c.target.host))
                                           : FlowEmitter::external(c.target.address);
    for (int k = 0; k < c.connections; ++k) {
      emit_.sized_tcp(rng_, emit_.internal(c.host), target, c.port, c.bytes * 0.05,
                      c.bytes * uniform_real(rng_, 0.5, 1.5));
    }
  }
}

// CI runners: builds start at random (mostly in working hours) and pull packages from
// mirrors, some never seen before, then push an artifact inside the VPC.
void ZooTraffic::ci_runners() {
  const auto& runners = env_.of(Role::ci);
  if (runners.empty()) return;
  const double rate = zoo_.ci.builds_per_hour / 60 * (working_hours() ? 1.0 : 0.15);
  for (const std::size_t r : runners) {
    if (chance(rng_, rate)) builds_.push_back({r, w_ + uniform_int(rng_, 2, 15) * minute});
  }
  for (const auto& b : builds_) {
    const int pulls = uniform_int(rng_, 5, 30);
    for (int k = 0; k < pulls; ++k) {
      const std::uint32_t mirror = chance(rng_, zoo_.ci.new_peer_share) ? new_external() : zoo_.ci.mirrors.pick(rng_);
      emit_.sized_tcp(rng_, emit_.internal(b.runner), FlowEmitter::external(mirror), 443, log_uniform(rng_, 5e2, 3e3),
                      log_uniform(rng_, 1e5, 5e6));
    }
    if (b.end == w_ + minute && !env_.of(Role::batch).empty()) {
      emit_.sized_tcp(rng_, emit_.internal(b.runner), emit_.internal(env_.of(Role::batch).front()), 443,
                      log_uniform(rng_, 1e7, 2e8), 2e4, 50);
    }
  }
  std::erase_if(builds_, [&](const Build& b) { return b.end <= w_ + minute; });
}

// Autoscaled app servers: serve the web tier and query the database between arrival and
// departure, with interfaces and addresses that have no history.
void ZooTraffic::autoscale(double a) {
  for (const auto& inst : zoo_.autoscaled) {
    if (w_ < inst.arrive || w_ >= inst.leave) continue;
    const auto self = emit_.internal(inst.host);
    const int in = poisson(rng_, 6.0 * a);
    for (int k = 0; k < in; ++k) {
      emit_.short_tcp(rng_, emit_.internal(pick(rng_, env_.of(Role::web))), self, 8080,
                      static_cast<std::uint32_t>(uniform_int(rng_, 3, 15)), uniform_real(rng_, 100, 600),
                      static_cast<std::uint32_t>(uniform_int(rng_, 3, 40)), uniform_real(rng_, 300, 1400), 2);
    }
    const int out = poisson(rng_, 4.0 * a);
    for (int k = 0; k < out; ++k) {
      emit_.short_tcp(rng_, self, emit_.internal(pick(rng_, env_.of(Role::db))), 5432,
                      static_cast<std::uint32_t>(uniform_int(rng_, 3, 12)), uniform_real(rng_, 80, 500),
                      static_cast<std::uint32_t>(uniform_int(rng_, 2, 80)), uniform_real(rng_, 200, 1400), 2);
    }
    if (chance(rng_, 0.7)) {
      emit_.udp(rng_, self, emit_.internal(pick(rng_, env_.of(Role::dns))), 53, 70, 200);
    }
  }
}

// Private hosts reach the internet through the NAT gateway: the host's ENI logs its side,
// the gateway's ENI logs the inside leg (host <-> peer) and the outside leg (its own address).
void ZooTraffic::nat_gateway(double a) {
  const auto& gateways = env_.of(Role::nat);
  if (gateways.empty()) return;
  std::vector<std::size_t> privates = env_.of(Role::app);
  privates.insert(privates.end(), env_.of(Role::batch).begin(), env_.of(Role::batch).end());
  privates.insert(privates.end(), env_.of(Role::db).begin(), env_.of(Role::db).end());
  const int n = poisson(rng_, zoo_.nat.flows_per_minute * (0.3 + 0.7 * a));
  for (int k = 0; k < n; ++k) {
    const std::size_t host = pick(rng_, privates);
    const std::size_t gw = pick(rng_, gateways);
    const std::uint32_t peer = chance(rng_, zoo_.nat.new_peer_share) ? new_external() : zoo_.nat.popular.pick(rng_);
    const auto req = log_uniform(rng_, 3e2, 5e3);
    const auto resp = log_uniform(rng_, 1e3, 3e5);
    const auto packets_req = static_cast<std::uint32_t>(req / 1000) + 2;
    const auto packets_resp = static_cast<std::uint32_t>(resp / 1200) + 2;
    const std::int64_t t0 = emit_.flow_start(rng_);
    const std::int64_t t1 = emit_.flow_end(rng_, t0, 10);
    const std::uint16_t sport = ephemeral_port(rng_);
    const auto bytes_req = static_cast<std::uint64_t>(req);
    const auto bytes_resp = static_cast<std::uint64_t>(resp);
    emit_.connection(emit_.internal(host), FlowEmitter::external(peer), sport, 443, 6, packets_req, bytes_req,
                     packets_resp, bytes_resp, t0, t1, 3, 19);
    emit_.connection(FlowEmitter::external(env_.host(host).address), FlowEmitter::on_host(gw, peer), sport, 443, 6,
                     packets_req, bytes_req, packets_resp, bytes_resp, t0, t1, 3, 19);
    emit_.connection(emit_.internal(gw), FlowEmitter::external(peer), ephemeral_port(rng_), 443, 6, packets_req,
                     bytes_req, packets_resp, bytes_resp, t0, t1, 3, 19);
  }
}

// Load balancer nodes: health checks to every web target, and a share of the internet's
// requests enter through them and are forwarded to the web tier.
void ZooTraffic::lb_health_checks(double a) {
  const auto& nodes = env_.of(Role::lb);
  if (nodes.empty()) return;
  for (const std::size_t node : nodes) {
    for (const std::size_t target : env_.of(Role::web)) {
      for (int k = 0; k < zoo_.lb.checks_per_minute; ++k) {
        emit_.short_tcp(rng_, emit_.internal(node), emit_.internal(target), 80, 3, 80, 3, 150, 1);
      }
    }
  }
  const int n = poisson(rng_, 80.0 * plan_.traffic * zoo_.lb.client_share * a);
  for (int k = 0; k < n; ++k) {
    const std::size_t node = pick(rng_, nodes);
    const auto client = FlowEmitter::external(plan_.clients.pick(rng_));
    const auto req = static_cast<std::uint32_t>(uniform_int(rng_, 3, 20));
    const auto resp = static_cast<std::uint32_t>(uniform_int(rng_, 3, 60));
    const double size = uniform_real(rng_, 400, 1460);
    emit_.short_tcp(rng_, client, emit_.internal(node), 443, req, 300, resp, size);
    emit_.short_tcp(rng_, emit_.internal(node), emit_.internal(pick(rng_, env_.of(Role::web))), 80, req, 300, resp,
                    size, 2);
  }
}

// Kubernetes nodes: pods come and go with new addresses (secondary IPs on the node's ENI)
// and talk to the database, the app tier, the resolvers and external APIs.
void ZooTraffic::kubernetes(double a) {
  const auto& nodes = env_.of(Role::k8s);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto& pods = pods_[i];
    std::erase_if(pods, [&](const Pod& p) { return p.dies <= w_; });
    while (pods.size() < static_cast<std::size_t>(zoo_.k8s.pods_per_node)) {
      pods.push_back({pod_address(i, next_pod_[i]++),
                      w_ + uniform_int(rng_, zoo_.k8s.min_life_minutes, zoo_.k8s.max_life_minutes) * minute});
    }
    for (const auto& pod : pods) {
      const auto self = FlowEmitter::on_host(nodes[i], pod.address);
      const int n = poisson(rng_, zoo_.k8s.flows_per_pod * a);
      for (int k = 0; k < n; ++k) {
        const double u = uniform_real(rng_, 0, 1);
        if (u < 0.4) {
          emit_.short_tcp(rng_, self, emit_.internal(pick(rng_, env_.of(Role::db))), 5432, 5, 200, 8, 900, 2);
        } else if (u < 0.6) {
          emit_.short_tcp(rng_, self, emit_.internal(pick(rng_, env_.of(Role::app))), 8080, 5, 300, 10, 1000, 2);
        } else if (u < 0.8) {
          emit_.udp(rng_, self, emit_.internal(pick(rng_, env_.of(Role::dns))), 53, 70, 200);
        } else {
          emit_.short_tcp(rng_, self, FlowEmitter::external(pick(rng_, plan_.apis)), 443, 6, 400, 10, 1200);
        }
      }
    }
  }
}

// Patch day: every Linux and Windows host downloads updates from mirrors within a few hours.
void ZooTraffic::patch_day() {
  const auto& p = zoo_.patch;
  if (p.start == 0 || w_ < p.start || w_ >= p.start + p.minutes * minute) return;
  for (std::size_t h = 0; h < env_.hosts().size(); ++h) {
    const Role r = env_.host(h).role;
    if (r == Role::dns || r == Role::nat || r == Role::lb || r == Role::autoscale) continue;
    // Each host downloads in about a tenth of the patch window's minutes.
    if (!chance(rng_, 0.1)) continue;
    emit_.sized_tcp(rng_, emit_.internal(h), FlowEmitter::external(p.mirrors.pick(rng_)), 443, 2e4,
                    p.bytes_per_host * 10 / p.minutes * uniform_real(rng_, 0.5, 1.5), 50);
  }
}

// SaaS agents check in on a fixed period; their vendors rotate endpoints, so a share of
// check-ins reach an address the host never contacted (a benign beacon).
void ZooTraffic::saas_agents() {
  const std::int64_t m = w_ / minute;
  for (const auto& agent : zoo_.agents) {
    for (const std::size_t h : agent.hosts) {
      if ((m + static_cast<std::int64_t>(h)) % agent.period_minutes != 0) continue;
      const std::uint32_t peer = chance(rng_, agent.new_peer_share) ? new_external() : pick(rng_, agent.endpoints);
      emit_.sized_tcp(rng_, emit_.internal(h), FlowEmitter::external(peer), agent.port, log_uniform(rng_, 5e2, 8e3),
                      log_uniform(rng_, 3e2, 3e3), 3);
    }
  }
}

}  // namespace flowlier::lab::sim
