#include "lab/Simulator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <numbers>
#include <random>
#include <set>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "lab/Environment.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

using Rng = std::mt19937_64;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Independent streams, so that e.g. --no-incidents leaves benign traffic unchanged.
Rng stream(std::uint64_t seed, std::uint64_t id) { return Rng(mix(mix(seed) ^ mix(id + 0x51ab))); }

constexpr std::int64_t minute = 60;
constexpr std::int64_t hour = 3600;
constexpr std::int64_t day = 86400;

int uniform_int(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
double uniform_real(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool chance(Rng& rng, double p) { return uniform_real(rng, 0.0, 1.0) < p; }
int poisson(Rng& rng, double mean) {
  if (mean <= 0) return 0;
  return std::poisson_distribution<int>(mean)(rng);
}
double log_uniform(Rng& rng, double lo, double hi) {
  return std::exp(uniform_real(rng, std::log(lo), std::log(hi)));
}
std::uint16_t ephemeral_port(Rng& rng) { return static_cast<std::uint16_t>(uniform_int(rng, 32768, 60999)); }
template <class T>
const T& pick(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(v.size()) - 1))];
}

// Peak-hour rates per minute at scale 1 (activity 1.0); see lab/README.md.
struct Rates {
  static constexpr double internet_web = 80;
  static constexpr double web_app = 40;
  static constexpr double app_db = 25;
  static constexpr double app_api = 6;
  static constexpr double dns_per_host = 1.0;
  static constexpr double scans = 1.5;
  static constexpr double night_level = 0.15;  // activity at 03:00 relative to 15:00
  static constexpr double new_client_share = 0.35;
};

// Internet clients with Zipf popularity: rank r is drawn with weight 1 / r^exponent.
class ZipfPool {
 public:
  ZipfPool() = default;
  ZipfPool(std::vector<std::uint32_t> addresses, double exponent) : addresses_(std::move(addresses)) {
    double total = 0;
    cdf_.reserve(addresses_.size());
    for (std::size_t i = 0; i < addresses_.size(); ++i) {
      total += 1.0 / std::pow(static_cast<double>(i + 1), exponent);
      cdf_.push_back(total);
    }
    for (auto& c : cdf_) c /= total;
  }
  std::uint32_t pick(Rng& rng) const {
    const double u = uniform_real(rng, 0.0, 1.0);
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return addresses_[std::min<std::size_t>(static_cast<std::size_t>(it - cdf_.begin()), addresses_.size() - 1)];
  }
  const std::vector<std::uint32_t>& addresses() const { return addresses_; }

 private:
  std::vector<std::uint32_t> addresses_;
  std::vector<double> cdf_;
};

enum class IncidentType : std::uint8_t {
  port_scan, sweep, exfiltration, ddos, brute_force, unusual_port, beacon, reject_storm
};
constexpr std::array<const char*, 8> incident_names = {
    "port-scan", "sweep", "exfiltration", "ddos", "brute-force", "unusual-port", "beacon", "reject-storm"};

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
  std::vector<std::int64_t> times;     // beacon times
  double rate = 0;                     // per minute: flows, or bytes for exfiltration
  std::uint16_t port = 0;
  std::uint16_t actor_port = 0;
  Rng rng;
  std::size_t next = 0;  // beacon cursor
};

struct Changes {
  std::int64_t deploy_start = 0;
  bool deploy_web_tier = true;  // true: web -> app calls double; false: app -> db calls double
  std::int64_t new_clients_start = 0;
  ZipfPool new_clients;
};

struct Endpoint {
  std::uint32_t address = 0;
  std::int32_t host = -1;  // index into hosts, -1 when outside the VPC
};

// A connection that lasts several windows: one record per window per direction per ENI.
struct Session {
  Endpoint client;
  Endpoint server;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  double request_bytes_per_minute = 0;
  double response_bytes_per_minute = 0;
  std::uint16_t request_packet_size = 1000;
  std::uint16_t response_packet_size = 1000;
};

std::string host_name(const Environment& env, std::size_t index) {
  const Host& h = env.host(index);
  const auto& same = env.of(h.role);
  const auto pos = std::find(same.begin(), same.end(), index) - same.begin();
  return fmt::format("{}-{} ({})", role_name(h.role), pos + 1, ipv4_text(h.address));
}

std::vector<LabelEntity> host_entities(const Environment& env, const std::vector<std::size_t>& hosts) {
  std::vector<LabelEntity> out;
  for (const auto i : hosts) {
    out.push_back({"interface", env.host(i).eni});
    out.push_back({"address", ipv4_text(env.host(i).address)});
  }
  return out;
}

// The whole run's random choices that are not per-window traffic.
struct Plan {
  Labels labels;
  std::vector<Injection> injections;
  Changes changes;
  ZipfPool clients;
  std::vector<std::uint32_t> admins;
  std::vector<std::uint32_t> apis;
  std::vector<std::uint32_t> s3;
  std::vector<std::uint32_t> ntp;
  std::vector<std::uint32_t> upstream_dns;
};

class Planner {
 public:
  Planner(const SimConfig& config, const Environment& env) : config_(config), env_(env) {}

  Plan plan() {
    Plan p;
    Rng rng = stream(config_.seed, 2);
    const auto clients = static_cast<std::size_t>(std::max(50.0, 3000 * config_.scale));
    p.clients = ZipfPool(fresh_addresses(rng, clients), 1.05);
    p.admins = fresh_addresses(rng, 3);
    p.apis = fresh_addresses(rng, 3);
    p.ntp = fresh_addresses(rng, 2);
    p.upstream_dns = {ipv4(1, 1, 1, 1), ipv4(8, 8, 8, 8)};
    for (unsigned i = 0; i < 4; ++i) p.s3.push_back(ipv4(52, 216, static_cast<unsigned>(uniform_int(rng, 0, 255)), 10 + i * 7));
    for (const auto a : p.s3) used_.insert(a);

    const std::int64_t begin = config_.start;
    const std::int64_t finish = config_.start + config_.duration_seconds;
    p.labels.seed = config_.seed;
    p.labels.start = begin;
    p.labels.end = finish;
    p.labels.window_seconds = minute;
    p.labels.warmup_end = warmup_end_for(begin, config_.duration_seconds);
    const std::int64_t region_start = p.labels.warmup_end;
    const std::int64_t region_len = finish - region_start;

    // Benign changes: their own stream, identical with or without incidents.
    Rng crng = stream(config_.seed, 4);
    Changes& c = p.changes;
    c.deploy_web_tier = chance(crng, 0.5);
    c.deploy_start = align(region_start + static_cast<std::int64_t>(uniform_real(crng, 0.05, 0.6) * static_cast<double>(region_len)));
    c.new_clients_start = align(region_start + static_cast<std::int64_t>(uniform_real(crng, 0.3, 0.9) * static_cast<double>(region_len)));
    c.new_clients = ZipfPool(fresh_addresses(crng, static_cast<std::size_t>(std::max(20.0, 800 * config_.scale))), 1.0);
    {
      LabelledSpan deploy;
      deploy.id = "chg-01";
      deploy.type = "deploy";
      deploy.start = c.deploy_start;
      deploy.end = finish;
      const Role from = c.deploy_web_tier ? Role::web : Role::app;
      const Role to = c.deploy_web_tier ? Role::app : Role::db;
      std::vector<std::size_t> hosts = env_.of(from);
      hosts.insert(hosts.end(), env_.of(to).begin(), env_.of(to).end());
      deploy.entities = host_entities(env_, hosts);
      deploy.description = fmt::format("deploy of the {} tier doubles {} -> {} calls from here on (level shift)",
                                       role_name(from), role_name(from), role_name(to));
      p.labels.benign_changes.push_back(std::move(deploy));
      LabelledSpan fresh;
      fresh.id = "chg-02";
      fresh.type = "new-clients";
      fresh.start = c.new_clients_start;
      fresh.end = finish;
      fresh.entities = host_entities(env_, env_.of(Role::web));
      fresh.description = fmt::format(
          "{} new internet clients appear and stay, adding {:.0f}% to web traffic",
          c.new_clients.addresses().size(), Rates::new_client_share * 100);
      p.labels.benign_changes.push_back(std::move(fresh));
    }

    if (!config_.incidents) return p;
    std::vector<IncidentType> order;
    for (std::uint8_t t = 0; t < incident_names.size(); ++t) order.push_back(static_cast<IncidentType>(t));
    std::shuffle(order.begin(), order.end(), rng);
    // The beacon runs for hours: keep it out of the last two slots so it is not cut short.
    const auto beacon = std::find(order.begin(), order.end(), IncidentType::beacon);
    if (beacon - order.begin() > static_cast<std::ptrdiff_t>(order.size()) - 3) {
      std::iter_swap(beacon, order.begin() + uniform_int(rng, 0, static_cast<int>(order.size()) - 3));
    }
    const std::int64_t slot = region_len / static_cast<std::int64_t>(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::int64_t slot_start = region_start + static_cast<std::int64_t>(k) * slot;
      const std::int64_t lead = std::min<std::int64_t>(15 * minute, slot / 10);
      const std::int64_t start =
          align(slot_start + lead + static_cast<std::int64_t>(uniform_real(rng, 0, 1) * static_cast<double>(std::max<std::int64_t>(slot / 2 - lead, 0))));
      Injection inj = make(order[k], start, finish, rng, p);
      inj.rng = stream(config_.seed, 100 + k);
      p.injections.push_back(std::move(inj));
    }
    std::stable_sort(p.injections.begin(), p.injections.end(),
              [](const Injection& a, const Injection& b) { return a.start < b.start; });
    for (std::size_t k = 0; k < p.injections.size(); ++k) {
      p.labels.incidents[k].id = fmt::format("inc-{:02}", k + 1);
    }
    return p;
  }

 private:
  static std::int64_t align(std::int64_t t) { return t - ((t % minute) + minute) % minute; }

  std::vector<std::uint32_t> fresh_addresses(Rng& rng, std::size_t n) {
    std::vector<std::uint32_t> out;
    while (out.size() < n) {
      const std::uint32_t a = random_public_ipv4(rng);
      if (used_.insert(a).second) out.push_back(a);
    }
    return out;
  }

  std::size_t pick_host(Rng& rng, std::initializer_list<Role> roles) {
    std::vector<std::size_t> candidates;
    for (const Role r : roles) candidates.insert(candidates.end(), env_.of(r).begin(), env_.of(r).end());
    return pick(rng, candidates);
  }

  Injection make(IncidentType type, std::int64_t start, std::int64_t finish, Rng& rng, Plan& p) {
    Injection inj;
    inj.type = type;
    inj.start = start;
    LabelledSpan label;
    label.type = incident_names[static_cast<std::size_t>(type)];
    auto set_end = [&](int minutes) {
      inj.end = std::min<std::int64_t>(start + minutes * minute, finish - minute);
      inj.end = std::max(inj.end, inj.start + minute);
    };
    auto actor = [&] {
      inj.actor = fresh_addresses(rng, 1).front();
      label.actors.push_back(ipv4_text(inj.actor));
    };
    switch (type) {
      case IncidentType::port_scan: {
        set_end(uniform_int(rng, 2, 6));
        inj.hosts = {pick_host(rng, {Role::web})};
        actor();
        const int count = uniform_int(rng, 200, 1000);
        std::set<std::uint16_t> ports = {22, 23, 80, 443, 445, 3389};
        while (ports.size() < static_cast<std::size_t>(count)) {
          ports.insert(static_cast<std::uint16_t>(chance(rng, 0.6) ? uniform_int(rng, 1, 1024) : uniform_int(rng, 1025, 65535)));
        }
        inj.ports.assign(ports.begin(), ports.end());
        std::shuffle(inj.ports.begin(), inj.ports.end(), rng);
        inj.actor_port = ephemeral_port(rng);
        label.description = fmt::format("{} probes {} ports on {} within {} min (mostly REJECT)",
                                        ipv4_text(inj.actor), count, host_name(env_, inj.hosts[0]), (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::sweep: {
        set_end(uniform_int(rng, 5, 20));
        inj.hosts = {pick_host(rng, {Role::web, Role::app})};
        const int count = uniform_int(rng, 60, 300);
        std::set<std::uint32_t> targets;
        while (targets.size() < static_cast<std::size_t>(count)) {
          const std::uint32_t t = ipv4(10, 0, static_cast<unsigned>(uniform_int(rng, 0, 5)), static_cast<unsigned>(uniform_int(rng, 4, 254)));
          if (t != env_.host(inj.hosts[0]).address) targets.insert(t);
        }
        inj.targets.assign(targets.begin(), targets.end());
        std::shuffle(inj.targets.begin(), inj.targets.end(), rng);
        for (std::size_t i = 0; i < inj.targets.size(); ++i) inj.ports.push_back(chance(rng, 0.5) ? 22 : 445);
        label.actors.push_back(ipv4_text(env_.host(inj.hosts[0]).address));
        label.description = fmt::format("{} connects to {} internal addresses on 22/445 within {} min (lateral movement)",
                                        host_name(env_, inj.hosts[0]), count, (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::exfiltration: {
        set_end(uniform_int(rng, 10, 30));
        inj.hosts = {pick_host(rng, {Role::app, Role::db})};
        actor();
        const double total = log_uniform(rng, 3e8, 8e9);
        inj.rate = total / static_cast<double>((inj.end - inj.start) / minute);
        inj.port = chance(rng, 0.7) ? 443 : static_cast<std::uint16_t>(uniform_int(rng, 8000, 9999));
        label.description = fmt::format("{} sends {:.2f} GB to new external address {} on port {} over {} min",
                                        host_name(env_, inj.hosts[0]), total / 1e9, ipv4_text(inj.actor), inj.port,
                                        (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::ddos: {
        set_end(uniform_int(rng, 5, 20));
        const auto& web = env_.of(Role::web);
        std::vector<std::size_t> shuffled = web;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        const int n = uniform_int(rng, std::min<int>(2, static_cast<int>(web.size())), static_cast<int>(web.size()));
        inj.hosts.assign(shuffled.begin(), shuffled.begin() + n);
        std::sort(inj.hosts.begin(), inj.hosts.end());
        const double factor = uniform_real(rng, 10, 30);
        inj.rate = factor * Rates::internet_web * config_.scale / static_cast<double>(web.size());
        inj.sources = fresh_addresses(rng, static_cast<std::size_t>(uniform_int(rng, 300, 2000) * std::sqrt(config_.scale)) + 10);
        label.description = fmt::format("{} sources flood {} web hosts: {:.0f} flows/min per host (x{:.0f} of peak) for {} min",
                                        inj.sources.size(), n, inj.rate, factor, (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::brute_force: {
        set_end(uniform_int(rng, 10, 40));
        inj.hosts = {pick_host(rng, {Role::bastion})};
        actor();
        inj.rate = uniform_real(rng, 8, 40);
        label.description = fmt::format("{} makes ~{:.0f} short SSH connections/min to {} for {} min",
                                        ipv4_text(inj.actor), inj.rate, host_name(env_, inj.hosts[0]), (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::unusual_port: {
        set_end(uniform_int(rng, 3, 20));
        inj.hosts = {pick_host(rng, {Role::web, Role::app, Role::db, Role::batch})};
        actor();
        static constexpr std::uint16_t odd_ports[] = {4444, 6667, 1337, 31337, 5555, 9001};
        inj.port = odd_ports[uniform_int(rng, 0, 5)];
        inj.rate = uniform_real(rng, 1, 4);
        label.description = fmt::format("{} contacts {} on port {} (never used before), ~{:.1f} connections/min for {} min",
                                        host_name(env_, inj.hosts[0]), ipv4_text(inj.actor), inj.port, inj.rate,
                                        (inj.end - inj.start) / minute);
        break;
      }
      case IncidentType::beacon: {
        set_end(uniform_int(rng, 120, 360));
        inj.hosts = {pick_host(rng, {Role::web, Role::app, Role::db, Role::batch})};
        actor();
        const int interval = uniform_int(rng, 2, 10);
        inj.port = chance(rng, 0.7) ? 443 : 8443;
        for (std::int64_t t = inj.start; t < inj.end; t += interval * minute) {
          const auto jitter = static_cast<std::int64_t>(uniform_real(rng, 0, 0.1) * interval * minute);
          if (t + jitter < inj.end) inj.times.push_back(t + jitter);
        }
        label.description = fmt::format("{} contacts new external address {}:{} every {} min with tiny flows for {:.1f} h",
                                        host_name(env_, inj.hosts[0]), ipv4_text(inj.actor), inj.port, interval,
                                        static_cast<double>(inj.end - inj.start) / hour);
        break;
      }
      case IncidentType::reject_storm: {
        set_end(uniform_int(rng, 6, 15));
        const bool db = chance(rng, 0.5);
        inj.hosts = {pick_host(rng, {db ? Role::db : Role::web})};
        inj.port = db ? 5432 : 443;
        label.description = fmt::format("security group change: {} rejects its normally accepted port {} for {} min",
                                        host_name(env_, inj.hosts[0]), inj.port, (inj.end - inj.start) / minute);
        break;
      }
    }
    label.start = inj.start;
    label.end = inj.end;
    label.entities = host_entities(env_, inj.hosts);
    // Keep labels in the same order as injections after sorting: insert in start order.
    const auto pos = std::upper_bound(p.labels.incidents.begin(), p.labels.incidents.end(), label.start,
                                      [](std::int64_t s, const LabelledSpan& l) { return s < l.start; });
    p.labels.incidents.insert(pos, std::move(label));
    return inj;
  }

  const SimConfig& config_;
  const Environment& env_;
  std::set<std::uint32_t> used_;
};

}  // namespace

namespace {

// Produces the records of one minute window at a time, in time order.
class Generator {
 public:
  Generator(const SimConfig& config, const Environment& env, Plan& plan)
      : config_(config), env_(env), plan_(plan), rng_(stream(config.seed, 3)) {
    // Streaming replication from the first db host to the others, for the whole run.
    const auto& db = env_.of(Role::db);
    for (std::size_t i = 1; i < db.size(); ++i) {
      Session s;
      s.client = internal(db[0]);
      s.server = internal(db[i]);
      s.sport = ephemeral_port(rng_);
      s.dport = 5432;
      s.start = config_.start - hour;
      s.end = config_.start + config_.duration_seconds + hour;
      s.request_bytes_per_minute = uniform_real(rng_, 15e6, 30e6);
      s.response_bytes_per_minute = s.request_bytes_per_minute * 0.02;
      s.request_packet_size = 1400;
      s.response_packet_size = 64;
      sessions_.push_back(s);
    }
    for (std::size_t i = 0; i < env_.of(Role::batch).size(); ++i) {
      batch_minute_.push_back(static_cast<int>((7 + 23 * i) % 60));
    }
  }

  void window(std::int64_t w, std::vector<FlowLine>& out) {
    out_ = &out;
    w_ = w;
    const double a = activity(w);
    internet_to_web(a);
    web_to_app(a);
    app_to_db(a);
    app_to_api(a);
    dns_and_ntp(a);
    background_scans();
    batch_jobs();
    bastion_sessions();
    for (auto& inj : plan_.injections) {
      if (inj.start < w + minute && inj.end > w) inject(inj);
    }
    tick_sessions();
  }

 private:
  Endpoint internal(std::size_t host) const {
    return {env_.host(host).address, static_cast<std::int32_t>(host)};
  }
  static Endpoint external(std::uint32_t address) { return {address, -1}; }

  // Diurnal activity: 1.0 at 15:00 UTC, Rates::night_level at 03:00, cosine in between,
  // 0.7 on weekends, with hourly and per-minute lognormal noise.
  double activity(std::int64_t w) {
    const std::int64_t h = w - ((w % hour) + hour) % hour;
    if (h != noise_hour_) {
      noise_hour_ = h;
      hour_noise_ = std::exp(std::normal_distribution<double>(0.0, 0.08)(rng_));
    }
    const double hod = static_cast<double>(((w % day) + day) % day) / hour;
    const double shape = (1 + std::cos(2 * std::numbers::pi * (hod - 15) / 24)) / 2;
    double a = Rates::night_level + (1 - Rates::night_level) * shape;
    const std::int64_t days = (w - ((w % day) + day) % day) / day;
    const int dow = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 0 = Sunday
    if (dow == 0 || dow == 6) a *= 0.7;
    return a * hour_noise_ * std::exp(std::normal_distribution<double>(0.0, 0.12)(rng_));
  }

  std::int64_t flow_start() { return w_ + uniform_int(rng_, 0, 59); }
  std::int64_t flow_end(std::int64_t start, int max_seconds) {
    return std::min<std::int64_t>(w_ + 59, start + uniform_int(rng_, 0, max_seconds));
  }

  void push(std::int32_t host, std::uint32_t src, std::uint32_t dst, std::uint16_t sport,
            std::uint16_t dport, std::uint8_t protocol, std::uint32_t packets, std::uint64_t bytes,
            std::int64_t t0, std::int64_t t1, bool reject, bool egress, bool peer_internal,
            std::uint8_t flags) {
    FlowLine l;
    l.start = t0;
    l.end = t1;
    l.host = static_cast<std::uint32_t>(host);
    l.src = src;
    l.dst = dst;
    l.sport = sport;
    l.dport = dport;
    l.protocol = protocol;
    l.reject = reject;
    l.egress = egress;
    l.path = egress ? (peer_internal ? 1 : 8) : 0;
    l.tcp_flags = protocol == 6 ? flags : 0;
    l.packets = std::max<std::uint32_t>(packets, 1);
    l.bytes = std::max<std::uint64_t>(bytes, l.packets * 40ull);
    out_->push_back(l);
  }

  // An accepted connection within this window: request and response records on every
  // internal ENI involved. response_packets == 0 means nothing answered.
  void connection(Endpoint c, Endpoint s, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto,
                  std::uint32_t req_packets, std::uint64_t req_bytes, std::uint32_t resp_packets,
                  std::uint64_t resp_bytes, std::int64_t t0, std::int64_t t1, std::uint8_t req_flags,
                  std::uint8_t resp_flags) {
    if (c.host >= 0) {
      push(c.host, c.address, s.address, sport, dport, proto, req_packets, req_bytes, t0, t1, false, true, s.host >= 0, req_flags);
      if (resp_packets) push(c.host, s.address, c.address, dport, sport, proto, resp_packets, resp_bytes, t0, t1, false, false, s.host >= 0, resp_flags);
    }
    if (s.host >= 0) {
      push(s.host, c.address, s.address, sport, dport, proto, req_packets, req_bytes, t0, t1, false, false, c.host >= 0, req_flags);
      if (resp_packets) push(s.host, s.address, c.address, dport, sport, proto, resp_packets, resp_bytes, t0, t1, false, true, c.host >= 0, resp_flags);
    }
  }

  // A short connection: SYN..FIN inside the window.
  void short_tcp(Endpoint c, Endpoint s, std::uint16_t dport, std::uint32_t req_packets, double req_size,
                 std::uint32_t resp_packets, double resp_size, int max_seconds = 5) {
    const std::int64_t t0 = flow_start();
    const std::int64_t t1 = flow_end(t0, max_seconds);
    connection(c, s, ephemeral_port(rng_), dport, 6, req_packets, static_cast<std::uint64_t>(req_packets * req_size),
               resp_packets, static_cast<std::uint64_t>(resp_packets * resp_size), t0, t1, 3, 19);
  }

  // A connection attempt the server's security group drops: the client's ENI (if internal)
  // logs an accepted egress SYN, the server's ENI one REJECT record; no response.
  void rejected(Endpoint c, std::size_t server, std::uint16_t sport, std::uint16_t dport, std::uint32_t packets) {
    const std::int64_t t0 = flow_start();
    const std::int64_t t1 = flow_end(t0, 3);
    const std::uint32_t addr = env_.host(server).address;
    const std::uint64_t bytes = packets * static_cast<std::uint64_t>(uniform_int(rng_, 40, 60));
    if (c.host >= 0) push(c.host, c.address, addr, sport, dport, 6, packets, bytes, t0, t1, false, true, true, 2);
    push(static_cast<std::int32_t>(server), c.address, addr, sport, dport, 6, packets, bytes, t0, t1, true, false, c.host >= 0, 2);
  }

  bool storm(std::size_t host, std::uint16_t port) const {
    for (const auto& inj : plan_.injections) {
      if (inj.type == IncidentType::reject_storm && inj.port == port && inj.hosts[0] == host &&
          inj.start <= w_ && w_ < inj.end) {
        return true;
      }
    }
    return false;
  }

  void rejected_with_retries(Endpoint c, std::size_t server, std::uint16_t dport) {
    const int tries = uniform_int(rng_, 1, 3);
    for (int i = 0; i < tries; ++i) rejected(c, server, ephemeral_port(rng_), dport, static_cast<std::uint32_t>(uniform_int(rng_, 1, 3)));
  }

  void internet_to_web(double a) {
    const auto& web = env_.of(Role::web);
    const double base = Rates::internet_web * config_.scale * a;
    const bool fresh = w_ >= plan_.changes.new_clients_start;
    const int n = poisson(rng_, base * (fresh ? 1 + Rates::new_client_share : 1));
    for (int i = 0; i < n; ++i) {
      const bool from_new = fresh && chance(rng_, Rates::new_client_share / (1 + Rates::new_client_share));
      const std::uint32_t client = from_new ? plan_.changes.new_clients.pick(rng_) : plan_.clients.pick(rng_);
      const std::size_t server = pick(rng_, web);
      const std::uint16_t port = chance(rng_, 0.9) ? 443 : 80;
      if (port == 443 && storm(server, 443)) {
        rejected_with_retries(external(client), server, port);
      } else if (chance(rng_, 0.03)) {
        Session s;
        s.client = external(client);
        s.server = internal(server);
        s.sport = ephemeral_port(rng_);
        s.dport = port;
        s.start = flow_start();
        s.end = s.start + uniform_int(rng_, 2, 20) * minute;
        s.request_bytes_per_minute = uniform_real(rng_, 2e3, 2e4);
        s.response_bytes_per_minute = uniform_real(rng_, 2e4, 5e5);
        s.request_packet_size = 120;
        s.response_packet_size = 1200;
        sessions_.push_back(s);
      } else {
        short_tcp(external(client), internal(server), port, static_cast<std::uint32_t>(uniform_int(rng_, 3, 20)),
                  uniform_real(rng_, 60, 400), static_cast<std::uint32_t>(uniform_int(rng_, 3, 60)),
                  uniform_real(rng_, 400, 1460));
      }
    }
  }

  void web_to_app(double a) {
    const bool doubled = plan_.changes.deploy_web_tier && w_ >= plan_.changes.deploy_start;
    const int n = poisson(rng_, Rates::web_app * config_.scale * a * (doubled ? 2 : 1));
    for (int i = 0; i < n; ++i) {
      short_tcp(internal(pick(rng_, env_.of(Role::web))), internal(pick(rng_, env_.of(Role::app))), 8080,
                static_cast<std::uint32_t>(uniform_int(rng_, 3, 15)), uniform_real(rng_, 100, 600),
                static_cast<std::uint32_t>(uniform_int(rng_, 3, 40)), uniform_real(rng_, 300, 1400), 2);
    }
  }

  void app_to_db(double a) {
    const bool doubled = !plan_.changes.deploy_web_tier && w_ >= plan_.changes.deploy_start;
    const auto& db = env_.of(Role::db);
    const int n = poisson(rng_, Rates::app_db * config_.scale * a * (doubled ? 2 : 1));
    for (int i = 0; i < n; ++i) {
      const Endpoint client = internal(pick(rng_, env_.of(Role::app)));
      const std::size_t server = chance(rng_, 0.5) ? db[0] : pick(rng_, db);
      if (storm(server, 5432)) {
        rejected_with_retries(client, server, 5432);
        continue;
      }
      short_tcp(client, internal(server), 5432, static_cast<std::uint32_t>(uniform_int(rng_, 3, 12)),
                uniform_real(rng_, 80, 500), static_cast<std::uint32_t>(uniform_int(rng_, 2, 80)),
                uniform_real(rng_, 200, 1400), 2);
    }
  }

  void app_to_api(double a) {
    const int n = poisson(rng_, Rates::app_api * config_.scale * a);
    for (int i = 0; i < n; ++i) {
      short_tcp(internal(pick(rng_, env_.of(Role::app))), external(pick(rng_, plan_.apis)), 443,
                static_cast<std::uint32_t>(uniform_int(rng_, 4, 20)), uniform_real(rng_, 100, 800),
                static_cast<std::uint32_t>(uniform_int(rng_, 4, 30)), uniform_real(rng_, 200, 1400));
    }
  }

  void udp(Endpoint c, Endpoint s, std::uint16_t dport, std::uint64_t req_bytes, std::uint64_t resp_bytes) {
    const std::int64_t t0 = flow_start();
    connection(c, s, ephemeral_port(rng_), dport, 17, 1, req_bytes, 1, resp_bytes, t0, t0, 0, 0);
  }

  void dns_and_ntp(double a) {
    const auto& resolvers = env_.of(Role::dns);
    for (std::size_t h = 0; h < env_.hosts().size(); ++h) {
      if (env_.host(h).role == Role::dns) continue;
      const int queries = poisson(rng_, Rates::dns_per_host * (0.4 + 0.6 * a));
      for (int q = 0; q < queries; ++q) {
        const std::size_t resolver = pick(rng_, resolvers);
        udp(internal(h), internal(resolver), 53, static_cast<std::uint64_t>(uniform_int(rng_, 60, 90)),
            static_cast<std::uint64_t>(uniform_int(rng_, 90, 300)));
        if (chance(rng_, 0.15)) {  // cache miss: the resolver asks upstream
          udp(internal(resolver), external(pick(rng_, plan_.upstream_dns)), 53,
              static_cast<std::uint64_t>(uniform_int(rng_, 60, 90)), static_cast<std::uint64_t>(uniform_int(rng_, 90, 400)));
        }
      }
      if (chance(rng_, 1.0 / 16)) udp(internal(h), external(pick(rng_, plan_.ntp)), 123, 76, 76);
    }
  }

  void background_scans() {
    static constexpr std::uint16_t common[] = {22, 23, 3389, 445, 1433, 8080, 3306, 5900, 6379, 25, 21, 139, 8443, 9200, 27017, 5060};
    const int n = poisson(rng_, Rates::scans * config_.scale);
    for (int i = 0; i < n; ++i) {
      const std::uint32_t scanner = random_public_ipv4(rng_);
      const std::size_t target = pick(rng_, env_.of(Role::web));
      const std::uint16_t port = common[uniform_int(rng_, 0, static_cast<int>(std::size(common)) - 1)];
      rejected(external(scanner), target, chance(rng_, 0.5) ? 54321 : ephemeral_port(rng_), port,
               static_cast<std::uint32_t>(uniform_int(rng_, 1, 2)));
    }
  }

  void batch_jobs() {
    const auto& batch = env_.of(Role::batch);
    const int minute_of_hour = static_cast<int>(((w_ % hour) + hour) % hour / minute);
    for (std::size_t b = 0; b < batch.size(); ++b) {
      if (batch_minute_[b] != minute_of_hour) continue;
      const std::int64_t start = flow_start();
      const std::int64_t end = start + uniform_int(rng_, 6, 15) * minute;
      Session read;
      read.client = internal(batch[b]);
      read.server = internal(env_.of(Role::db)[0]);
      read.sport = ephemeral_port(rng_);
      read.dport = 5432;
      read.start = start;
      read.end = end;
      read.request_bytes_per_minute = uniform_real(rng_, 5e4, 2e5);
      read.response_bytes_per_minute = uniform_real(rng_, 2e7, 6e7);
      read.request_packet_size = 200;
      read.response_packet_size = 1400;
      sessions_.push_back(read);
      Session upload = read;
      upload.server = external(pick(rng_, plan_.s3));
      upload.sport = ephemeral_port(rng_);
      upload.dport = 443;
      upload.start = start + uniform_int(rng_, 30, 90);
      upload.end = end + uniform_int(rng_, 30, 90);
      upload.request_bytes_per_minute = uniform_real(rng_, 4e7, 1.2e8);
      upload.response_bytes_per_minute = uniform_real(rng_, 5e5, 2e6);
      upload.request_packet_size = 1400;
      upload.response_packet_size = 60;
      sessions_.push_back(upload);
    }
  }

  void bastion_sessions() {
    const std::int64_t days = (w_ - ((w_ % day) + day) % day) / day;
    const int dow = static_cast<int>(((days + 4) % 7 + 7) % 7);
    const std::int64_t hod = ((w_ % day) + day) % day / hour;
    const bool office = dow != 0 && dow != 6 && hod >= 7 && hod < 19;
    for (const std::size_t bastion : env_.of(Role::bastion)) {
      if (!chance(rng_, office ? 0.015 : 0.003)) continue;
      Session s;
      s.client = external(pick(rng_, plan_.admins));
      s.server = internal(bastion);
      s.sport = ephemeral_port(rng_);
      s.dport = 22;
      s.start = flow_start();
      s.end = s.start + uniform_int(rng_, 5, 90) * minute;
      s.request_bytes_per_minute = uniform_real(rng_, 2e3, 3e4);
      s.response_bytes_per_minute = uniform_real(rng_, 5e3, 1e5);
      s.request_packet_size = 90;
      s.response_packet_size = 300;
      sessions_.push_back(s);
      if (chance(rng_, 0.6)) {  // the admin hops on to an app or db host
        Session hop = s;
        std::vector<std::size_t> inner = env_.of(Role::app);
        inner.insert(inner.end(), env_.of(Role::db).begin(), env_.of(Role::db).end());
        hop.client = internal(bastion);
        hop.server = internal(pick(rng_, inner));
        hop.sport = ephemeral_port(rng_);
        hop.start = s.start + uniform_int(rng_, 10, 120);
        hop.end = std::max(hop.start + minute, s.end - uniform_int(rng_, 10, 120));
        sessions_.push_back(hop);
      }
    }
  }

  void tick_sessions() {
    const std::int64_t w_end = w_ + minute;
    for (const Session& s : sessions_) {
      if (s.start >= w_end || s.end <= w_) continue;
      const std::int64_t t0 = std::max(s.start, w_);
      const std::int64_t t1 = std::min(s.end, w_end - 1);
      const double covered = static_cast<double>(t1 - t0 + 1) / minute;
      const double noise = uniform_real(rng_, 0.8, 1.2);
      const double req = s.request_bytes_per_minute * covered * noise;
      const double resp = s.response_bytes_per_minute * covered * noise;
      std::uint8_t req_flags = 0;
      std::uint8_t resp_flags = 0;
      if (s.start >= w_) req_flags |= 2, resp_flags |= 18;
      if (s.end < w_end) req_flags |= 1, resp_flags |= 1;
      connection(s.client, s.server, s.sport, s.dport, 6,
                 static_cast<std::uint32_t>(req / s.request_packet_size) + 1, static_cast<std::uint64_t>(req),
                 static_cast<std::uint32_t>(resp / s.response_packet_size) + 1, static_cast<std::uint64_t>(resp), t0, t1,
                 req_flags, resp_flags);
    }
    std::erase_if(sessions_, [&](const Session& s) { return s.end <= w_end; });
  }

  // Incident behaviour for this window; each injection draws from its own stream.
  void inject(Injection& inj) {
    Rng& r = inj.rng;
    const auto minutes = static_cast<std::size_t>((inj.end - inj.start) / minute);
    const auto index = static_cast<std::size_t>((w_ - inj.start) / minute);
    auto slice = [&](std::size_t total) {
      return std::pair<std::size_t, std::size_t>{total * index / minutes, total * (index + 1) / minutes};
    };
    const std::size_t victim = inj.hosts.front();
    switch (inj.type) {
      case IncidentType::port_scan: {
        const auto [from, to] = slice(inj.ports.size());
        for (std::size_t i = from; i < to; ++i) {
          const std::uint16_t port = inj.ports[i];
          if (port == 80 || port == 443) {
            const std::int64_t t0 = w_ + uniform_int(r, 0, 59);
            connection(external(inj.actor), internal(victim), inj.actor_port, port, 6, 1, 44, 1, 44, t0, t0, 2, 18);
          } else {
            rejected(external(inj.actor), victim, inj.actor_port, port, 1);
          }
        }
        break;
      }
      case IncidentType::sweep: {
        const auto [from, to] = slice(inj.targets.size());
        const Endpoint actor = internal(victim);
        for (std::size_t i = from; i < to; ++i) {
          const auto target = env_.find(inj.targets[i]);
          const std::uint16_t sport = ephemeral_port(r);
          if (target) {
            rejected(actor, *target, sport, inj.ports[i], static_cast<std::uint32_t>(uniform_int(r, 1, 2)));
          } else {
            const std::int64_t t0 = w_ + uniform_int(r, 0, 59);
            connection(actor, {inj.targets[i], -1}, sport, inj.ports[i], 6, static_cast<std::uint32_t>(uniform_int(r, 1, 3)),
                       0, 0, 0, t0, std::min<std::int64_t>(w_ + 59, t0 + 3), 2, 0);
          }
        }
        break;
      }
      case IncidentType::exfiltration: {
        if (w_ == inj.start) {
          const int connections = uniform_int(r, 1, 3);
          for (int c = 0; c < connections; ++c) {
            Session s;
            s.client = internal(victim);
            s.server = external(inj.actor);
            s.sport = ephemeral_port(r);
            s.dport = inj.port;
            s.start = inj.start + uniform_int(r, 0, 20);
            s.end = inj.end - uniform_int(r, 1, 20);
            s.request_bytes_per_minute = inj.rate / connections;
            s.response_bytes_per_minute = inj.rate / connections / 1400 * 52 / 2;
            s.request_packet_size = 1400;
            s.response_packet_size = 52;
            sessions_.push_back(s);
          }
        }
        break;
      }
      case IncidentType::ddos: {
        for (const std::size_t target : inj.hosts) {
          const int n = poisson(r, inj.rate);
          for (int i = 0; i < n; ++i) {
            const std::int64_t t0 = w_ + uniform_int(r, 0, 59);
            const std::int64_t t1 = std::min<std::int64_t>(w_ + 59, t0 + uniform_int(r, 0, 10));
            const auto packets = static_cast<std::uint32_t>(uniform_int(r, 10, 200));
            connection(external(pick(r, inj.sources)), internal(target), ephemeral_port(r), chance(r, 0.8) ? 443 : 80, 6,
                       packets, packets * static_cast<std::uint64_t>(uniform_int(r, 40, 600)), packets / 4 + 1,
                       (packets / 4 + 1) * static_cast<std::uint64_t>(uniform_int(r, 40, 200)), t0, t1, 3, 19);
          }
        }
        break;
      }
      case IncidentType::brute_force: {
        const int n = poisson(r, inj.rate);
        for (int i = 0; i < n; ++i) {
          const std::int64_t t0 = w_ + uniform_int(r, 0, 59);
          const std::int64_t t1 = std::min<std::int64_t>(w_ + 59, t0 + uniform_int(r, 2, 8));
          const auto req = static_cast<std::uint32_t>(uniform_int(r, 12, 25));
          const auto resp = static_cast<std::uint32_t>(uniform_int(r, 15, 30));
          connection(external(inj.actor), internal(victim), ephemeral_port(r), 22, 6, req,
                     req * static_cast<std::uint64_t>(uniform_int(r, 80, 160)), resp,
                     resp * static_cast<std::uint64_t>(uniform_int(r, 90, 200)), t0, t1, 3, 19);
        }
        break;
      }
      case IncidentType::unusual_port: {
        const int n = std::max(index == 0 ? 1 : 0, poisson(r, inj.rate));
        for (int i = 0; i < n; ++i) {
          const std::int64_t t0 = w_ + uniform_int(r, 0, 59);
          const std::int64_t t1 = std::min<std::int64_t>(w_ + 59, t0 + uniform_int(r, 1, 30));
          const auto req = static_cast<std::uint32_t>(uniform_int(r, 5, 60));
          const auto resp = static_cast<std::uint32_t>(uniform_int(r, 5, 150));
          connection(internal(victim), external(inj.actor), ephemeral_port(r), inj.port, 6, req,
                     req * static_cast<std::uint64_t>(uniform_int(r, 100, 800)), resp,
                     resp * static_cast<std::uint64_t>(uniform_int(r, 200, 1400)), t0, t1, 3, 19);
        }
        break;
      }
      case IncidentType::beacon: {
        while (inj.next < inj.times.size() && inj.times[inj.next] < w_ + minute) {
          const std::int64_t t0 = std::max(inj.times[inj.next++], w_);
          const std::int64_t t1 = std::min<std::int64_t>(w_ + 59, t0 + uniform_int(r, 0, 2));
          const auto req = static_cast<std::uint32_t>(uniform_int(r, 3, 6));
          const auto resp = static_cast<std::uint32_t>(uniform_int(r, 3, 6));
          connection(internal(victim), external(inj.actor), ephemeral_port(r), inj.port, 6, req,
                     req * static_cast<std::uint64_t>(uniform_int(r, 60, 150)), resp,
                     resp * static_cast<std::uint64_t>(uniform_int(r, 60, 250)), t0, t1, 3, 19);
        }
        break;
      }
      case IncidentType::reject_storm:
        break;  // applied inside the benign generators (see storm())
    }
  }

  const SimConfig& config_;
  const Environment& env_;
  Plan& plan_;
  Rng rng_;
  std::vector<Session> sessions_;
  std::vector<int> batch_minute_;
  std::vector<FlowLine>* out_ = nullptr;
  std::int64_t w_ = 0;
  std::int64_t noise_hour_ = -1;
  double hour_noise_ = 1.0;
};

struct Prepared {
  Environment env;
  Plan plan;
};

std::optional<Prepared> prepare(const SimConfig& config, std::string& error) {
  error = validate(config);
  if (!error.empty()) return std::nullopt;
  Rng env_rng = stream(config.seed, 1);
  Prepared p{Environment::build(config.scale, env_rng), {}};
  p.plan = Planner(config, p.env).plan();
  return p;
}

}  // namespace

std::string validate(const SimConfig& config) {
  if (!(config.scale > 0 && config.scale <= 100)) return fmt::format("scale must be in (0, 100], got {}", config.scale);
  if (config.duration_seconds < hour || config.duration_seconds % hour != 0) {
    return "duration must be a whole number of hours, at least one";
  }
  if (config.duration_seconds > 366 * day) return "duration must be at most 366 days";
  if (config.start % hour != 0) return "start must be on a whole hour (e.g. 2026-03-02T00:00:00Z)";
  if (config.start < 0) return "start must not be before 1970";
  return {};
}

std::int64_t warmup_end_for(std::int64_t start, std::int64_t duration_seconds) {
  if (duration_seconds >= 2 * day) return start + day;
  const std::int64_t w = duration_seconds * 2 / 3;
  return start + w - w % minute;
}

std::optional<Labels> plan_labels(const SimConfig& config, std::string& error) {
  auto p = prepare(config, error);
  if (!p) return std::nullopt;
  return p->plan.labels;
}

std::optional<SimSummary> simulate(const SimConfig& config, std::string& error) {
  auto prepared = prepare(config, error);
  if (!prepared) return std::nullopt;
  const Environment& env = prepared->env;
  Plan& plan = prepared->plan;

  std::error_code ec;
  std::filesystem::create_directories(config.out_dir, ec);
  if (ec) {
    error = fmt::format("cannot create {}: {}", config.out_dir.string(), ec.message());
    return std::nullopt;
  }
  FlowLogWriter writer(env, config.format, config.out_dir, config.seed);
  Generator generator(config, env, plan);
  std::vector<FlowLine> lines;
  const std::int64_t finish = config.start + config.duration_seconds;
  for (std::int64_t h = config.start; h < finish; h += hour) {
    lines.clear();
    for (std::int64_t w = h; w < h + hour; w += minute) generator.window(w, lines);
    error = writer.write_hour(h, lines);
    if (!error.empty()) return std::nullopt;
  }

  writer.relabel(plan.labels);
  const std::filesystem::path labels_path = config.out_dir / "labels.json";
  std::ofstream labels_file(labels_path, std::ios::binary | std::ios::trunc);
  labels_file << labels_to_json(plan.labels);
  labels_file.close();
  if (!labels_file) {
    error = fmt::format("cannot write {}", labels_path.string());
    return std::nullopt;
  }
  SimSummary summary;
  summary.labels = plan.labels;
  summary.hosts = env.hosts().size();
  summary.files = writer.files();
  summary.records = writer.records();
  summary.uncompressed_bytes = writer.uncompressed_bytes();
  summary.compressed_bytes = writer.compressed_bytes();
  return summary;
}

}  // namespace flowlier::lab
