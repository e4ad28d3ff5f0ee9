#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "lab/Incidents.hpp"

namespace flowlier::lab::sim {

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

namespace {

std::size_t pick_host(Rng& rng, const Environment& env, std::initializer_list<Role> roles) {
  std::vector<std::size_t> candidates;
  for (const Role r : roles) candidates.insert(candidates.end(), env.of(r).begin(), env.of(r).end());
  return pick(rng, candidates);
}

// The state every planning function shares: the injection, its label, and small helpers.
struct Draft {
  Injection& inj;
  LabelledSpan& label;
  Rng& rng;
  const IncidentContext& ctx;

  void last(int minutes) {
    inj.end = std::min<std::int64_t>(inj.start + minutes * minute, ctx.finish - minute);
    inj.end = std::max(inj.end, inj.start + minute);
  }
  void actor() {
    inj.actor = ctx.book.fresh_one(rng);
    label.actors.push_back(ipv4_text(inj.actor));
  }
  std::string victim() const { return host_name(ctx.env, inj.hosts[0]); }
  std::int64_t minutes() const { return (inj.end - inj.start) / minute; }
  // Contact times spread at `interval` seconds with up to `jitter` (share of it) late.
  void periodic_times(double interval, double jitter) {
    for (double t = static_cast<double>(inj.start); t < static_cast<double>(inj.end); t += interval) {
      const auto at = static_cast<std::int64_t>(t + uniform_real(rng, 0, jitter) * interval);
      if (at < inj.end) inj.times.push_back(at);
    }
  }
};

void port_scan(Draft& d) {
  d.last(uniform_int(d.rng, 2, 6));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::web})};
  d.actor();
  const int count = uniform_int(d.rng, 200, 1000);
  std::set<std::uint16_t> ports = {22, 23, 80, 443, 445, 3389};
  while (ports.size() < static_cast<std::size_t>(count)) {
    ports.insert(
        static_cast<std::uint16_t>(chance(d.rng, 0.6) ? uniform_int(d.rng, 1, 1024) : uniform_int(d.rng, 1025, 65535)));
  }
  d.inj.ports.assign(ports.begin(), ports.end());
  std::shuffle(d.inj.ports.begin(), d.inj.ports.end(), d.rng);
  d.inj.actor_port = ephemeral_port(d.rng);
  d.label.description = fmt::format("{} probes {} ports on {} within {} min (mostly REJECT)", ipv4_text(d.inj.actor),
                                    count, d.victim(), d.minutes());
}

// After d.last(): the duration is drawn before the host, as it always was.
void sweep_from(Draft& d, std::size_t host) {
  d.inj.hosts = {host};
  const int count = uniform_int(d.rng, 60, 300);
  std::set<std::uint32_t> targets;
  while (targets.size() < static_cast<std::size_t>(count)) {
    const std::uint32_t t =
        ipv4(10, 0, static_cast<unsigned>(uniform_int(d.rng, 0, 5)), static_cast<unsigned>(uniform_int(d.rng, 4, 254)));
    if (t != d.ctx.env.host(d.inj.hosts[0]).address) targets.insert(t);
  }
  d.inj.targets.assign(targets.begin(), targets.end());
  std::shuffle(d.inj.targets.begin(), d.inj.targets.end(), d.rng);
  for (std::size_t i = 0; i < d.inj.targets.size(); ++i) d.inj.ports.push_back(chance(d.rng, 0.5) ? 22 : 445);
  d.label.actors.push_back(ipv4_text(d.ctx.env.host(d.inj.hosts[0]).address));
  d.label.description = fmt::format("{} connects to {} internal addresses on 22/445 within {} min (lateral movement)",
                                    d.victim(), count, d.minutes());
}

void sweep(Draft& d) {
  d.last(uniform_int(d.rng, 5, 20));
  sweep_from(d, pick_host(d.rng, d.ctx.env, {Role::web, Role::app}));
}

// A third of the exfiltrations are low-volume: 1/6 of the usual size.
void exfiltration(Draft& d) {
  d.last(uniform_int(d.rng, 10, 30));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::app, Role::db})};
  d.actor();
  const bool low = chance(d.rng, 1.0 / 3);
  const double total = log_uniform(d.rng, 3e8, 8e9) / (low ? 6 : 1);
  d.inj.rate = total / static_cast<double>(d.minutes());
  d.inj.port = chance(d.rng, 0.7) ? 443 : static_cast<std::uint16_t>(uniform_int(d.rng, 8000, 9999));
  d.label.description =
      fmt::format("{} sends {:.2f} GB{} to new external address {} on port {} over {} min", d.victim(), total / 1e9,
                  low ? " (low volume)" : "", ipv4_text(d.inj.actor), d.inj.port, d.minutes());
}

void ddos(Draft& d) {
  d.last(uniform_int(d.rng, 5, 20));
  const auto& web = d.ctx.env.of(Role::web);
  std::vector<std::size_t> shuffled = web;
  std::shuffle(shuffled.begin(), shuffled.end(), d.rng);
  const int n = uniform_int(d.rng, std::min<int>(2, static_cast<int>(web.size())), static_cast<int>(web.size()));
  d.inj.hosts.assign(shuffled.begin(), shuffled.begin() + n);
  std::sort(d.inj.hosts.begin(), d.inj.hosts.end());
  const double factor = uniform_real(d.rng, 10, 30);
  d.inj.rate = factor * 80 * d.ctx.scale * d.ctx.traffic / static_cast<double>(web.size());
  d.inj.sources =
      d.ctx.book.fresh(d.rng, static_cast<std::size_t>(uniform_int(d.rng, 300, 2000) * std::sqrt(d.ctx.scale)) + 10);
  d.label.description =
      fmt::format("{} sources flood {} web hosts: {:.0f} flows/min per host (x{:.0f} of peak) for {} min",
                  d.inj.sources.size(), n, d.inj.rate, factor, d.minutes());
}

void brute_force(Draft& d) {
  d.last(uniform_int(d.rng, 10, 40));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::bastion})};
  d.actor();
  d.inj.rate = uniform_real(d.rng, 8, 40);
  d.inj.port = 22;
  d.label.description = fmt::format("{} makes ~{:.0f} short SSH connections/min to {} for {} min",
                                    ipv4_text(d.inj.actor), d.inj.rate, d.victim(), d.minutes());
}

// 20 to 300 login attempts in a few minutes: SSH on a bastion, RDP or telnet on Windows.
void brute_force_burst(Draft& d) {
  d.last(uniform_int(d.rng, 2, 15));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::bastion, Role::windows})};
  d.actor();
  const bool windows = d.ctx.env.host(d.inj.hosts[0]).role == Role::windows;
  d.inj.port = windows ? (chance(d.rng, 0.5) ? 3389 : 23) : 22;
  const int attempts = uniform_int(d.rng, 20, 300);
  d.inj.rate = static_cast<double>(attempts) / static_cast<double>(d.minutes());
  d.label.description =
      fmt::format("{} makes {} login attempts on port {} of {} within {} min{}", ipv4_text(d.inj.actor), attempts,
                  d.inj.port, d.victim(), d.minutes(), d.inj.port == 23 ? " (telnet: rejected)" : "");
}

void unusual_port(Draft& d) {
  d.last(uniform_int(d.rng, 3, 20));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::web, Role::app, Role::db, Role::batch})};
  d.actor();
  static constexpr std::uint16_t odd_ports[] = {4444, 6667, 1337, 31337, 5555, 9001};
  d.inj.port = odd_ports[uniform_int(d.rng, 0, 5)];
  d.inj.rate = uniform_real(d.rng, 1, 4);
  d.label.description = fmt::format("{} contacts {} on port {} (never used before), ~{:.1f} connections/min for {} min",
                                    d.victim(), ipv4_text(d.inj.actor), d.inj.port, d.inj.rate, d.minutes());
}

void beacon(Draft& d) {
  d.last(uniform_int(d.rng, 120, 360));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::web, Role::app, Role::db, Role::batch})};
  d.actor();
  const int interval = uniform_int(d.rng, 2, 10);
  d.inj.port = chance(d.rng, 0.7) ? 443 : 8443;
  d.periodic_times(interval * minute, 0.1);
  d.label.description =
      fmt::format("{} contacts new external address {}:{} every {} min with tiny flows for {:.1f} h", d.victim(),
                  ipv4_text(d.inj.actor), d.inj.port, interval, static_cast<double>(d.inj.end - d.inj.start) / hour);
}

void reject_storm(Draft& d) {
  d.last(uniform_int(d.rng, 6, 15));
  const bool db = chance(d.rng, 0.5);
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {db ? Role::db : Role::web})};
  d.inj.port = db ? 5432 : 443;
  d.label.description = fmt::format("security group change: {} rejects its normally accepted port {} for {} min",
                                    d.victim(), d.inj.port, d.minutes());
}

// One probe at a time, at random moments over hours: no single window looks like a scan.
void slow_scan(Draft& d) {
  d.last(uniform_int(d.rng, 120, 540));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::web, Role::bastion, Role::windows})};
  d.actor();
  const int count = uniform_int(d.rng, 100, 900);
  std::set<std::uint16_t> ports;
  while (ports.size() < static_cast<std::size_t>(count)) {
    ports.insert(
        static_cast<std::uint16_t>(chance(d.rng, 0.5) ? uniform_int(d.rng, 1, 1024) : uniform_int(d.rng, 1025, 65535)));
  }
  d.inj.ports.assign(ports.begin(), ports.end());
  std::shuffle(d.inj.ports.begin(), d.inj.ports.end(), d.rng);
  for (std::size_t i = 0; i < d.inj.ports.size(); ++i) {
    d.inj.times.push_back(d.inj.start + static_cast<std::int64_t>(uniform_real(d.rng, 0, 1) *
                                                                  static_cast<double>(d.inj.end - d.inj.start)));
  }
  std::sort(d.inj.times.begin(), d.inj.times.end());
  d.inj.actor_port = ephemeral_port(d.rng);
  d.label.description =
      fmt::format("{} probes {} ports on {} one at a time over {:.1f} h (slow scan)", ipv4_text(d.inj.actor), count,
                  d.victim(), static_cast<double>(d.inj.end - d.inj.start) / hour);
}

// Small uploads every few minutes to a new external address, for hours.
void slow_exfiltration(Draft& d) {
  d.last(uniform_int(d.rng, 60, 240));
  d.inj.hosts = {pick_host(d.rng, d.ctx.env, {Role::app, Role::db, Role::batch})};
  d.actor();
  const double total = log_uniform(d.rng, 3e7, 4e8);
  const int interval = uniform_int(d.rng, 1, 5);
  d.inj.port = 443;
  d.periodic_times(interval * minute, 0.3);
  d.inj.rate = total / static_cast<double>(std::max<std::size_t>(d.inj.times.size(), 1));  // bytes per contact
  d.label.description = fmt::format(
      "{} uploads {:.0f} MB to new external address {} in {} small transfers every ~{} min "
      "over {:.1f} h (low and slow)",
      d.victim(), total / 1e6, ipv4_text(d.inj.actor), d.inj.times.size(), interval,
      static_cast<double>(d.inj.end - d.inj.start) / hour);
}

}  // namespace

Injection plan_newcomer_sweep(std::size_t host, std::int64_t start, Rng& rng, const IncidentContext& ctx,
                              LabelledSpan& label) {
  Injection inj;
  inj.type = IncidentType::sweep;
  inj.start = start;
  label.type = "newcomer-sweep";
  Draft d{inj, label, rng, ctx};
  d.last(uniform_int(d.rng, 5, 20));
  sweep_from(d, host);
  label.description += ", in its first hours after launch";
  label.start = inj.start;
  label.end = inj.end;
  label.entities = host_entities(ctx.env, inj.hosts);
  return inj;
}

Injection plan_incident(IncidentType type, std::int64_t start, Rng& rng, const IncidentContext& ctx,
                        LabelledSpan& label) {
  Injection inj;
  inj.type = type;
  inj.start = start;
  label.type = incident_names[static_cast<std::size_t>(type)];
  Draft d{inj, label, rng, ctx};
  switch (type) {
    case IncidentType::port_scan: port_scan(d); break;
    case IncidentType::sweep: sweep(d); break;
    case IncidentType::exfiltration: exfiltration(d); break;
    case IncidentType::ddos: ddos(d); break;
    case IncidentType::brute_force: brute_force(d); break;
    case IncidentType::unusual_port: unusual_port(d); break;
    case IncidentType::beacon: beacon(d); break;
    case IncidentType::reject_storm: reject_storm(d); break;
    case IncidentType::slow_scan: slow_scan(d); break;
    case IncidentType::slow_exfiltration: slow_exfiltration(d); break;
    case IncidentType::brute_force_burst: brute_force_burst(d); break;
  }
  label.start = inj.start;
  label.end = inj.end;
  label.entities = host_entities(ctx.env, inj.hosts);
  return inj;
}

}  // namespace flowlier::lab::sim
