#include "lab/ZooPlanner.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::lab::sim {

namespace {

int scaled(Rng& rng, int lo, int hi, double scale, int floor) {
  return std::clamp(static_cast<int>(std::lround(uniform_int(rng, lo, hi) * scale)), floor, 240);
}

int run_days(std::int64_t duration_seconds) { return static_cast<int>((duration_seconds + day - 1) / day); }

std::vector<std::size_t> hosts_of(const Environment& env, std::initializer_list<Role> roles) {
  std::vector<std::size_t> out;
  for (const Role r : roles) out.insert(out.end(), env.of(r).begin(), env.of(r).end());
  return out;
}

Peer internal_peer(const Environment& env, std::size_t host) {
  return {static_cast<std::int32_t>(host), env.host(host).address};
}

}  // namespace

bool Zoo::has(const std::string& name) const {
  return std::find(members.begin(), members.end(), name) != members.end();
}

void Zoo::exclude(const std::string& name) {
  std::erase(members, name);
  for (auto& names : host_members) std::erase(names, name);
}

EstateShape draw_shape(Rng& rng, double scale, std::int64_t duration_seconds) {
  EstateShape s{};
  auto set = [&s](Role r, int n) { s[static_cast<std::size_t>(r)] = n; };
  set(Role::dns, scaled(rng, 2, 3, scale, 1));
  set(Role::web, scaled(rng, 3, 9, scale, 2));
  set(Role::app, scaled(rng, 3, 9, scale, 1));
  set(Role::db, scaled(rng, 2, 4, scale, 1));
  set(Role::batch, scaled(rng, 1, 3, scale, 1));
  set(Role::bastion, scaled(rng, 1, 2, scale, 1));
  set(Role::nat, chance(rng, 0.6) ? scaled(rng, 1, 2, 1.0, 1) : 0);
  set(Role::lb, chance(rng, 0.6) ? 2 : 0);
  set(Role::k8s, chance(rng, 0.5) ? scaled(rng, 2, 6, scale, 1) : 0);
  set(Role::ci, chance(rng, 0.5) ? scaled(rng, 1, 3, scale, 1) : 0);
  set(Role::windows, chance(rng, 0.5) ? scaled(rng, 2, 8, scale, 1) : 0);
  const int per_day = chance(rng, 0.6) ? scaled(rng, 2, 8, scale, 1) : 0;
  set(Role::autoscale, per_day * run_days(duration_seconds));
  return s;
}

Zoo draw_zoo(Rng& rng, const Environment& env, std::int64_t start, std::int64_t finish, double scale,
             AddressBook& book) {
  Zoo z;
  z.host_members.resize(env.hosts().size());
  auto member = [&](const std::string& name, const std::vector<std::size_t>& hosts) {
    z.members.push_back(name);
    for (const auto h : hosts) z.host_members[h].push_back(name);
  };
  const auto& bastions = env.of(Role::bastion);
  const auto& windows = env.of(Role::windows);

  // Admin SSH: always, every estate has its bastion(s).
  z.admin_ssh.admins = book.fresh(rng, static_cast<std::size_t>(uniform_int(rng, 2, 6)));
  z.admin_ssh.busy_share = uniform_real(rng, 0.2, 0.4);
  z.admin_ssh.first_hour = uniform_int(rng, 7, 9);
  z.admin_ssh.last_hour = uniform_int(rng, 17, 19);
  z.admin_ssh.hop_share = uniform_real(rng, 0.1, 0.5);
  member("admin-ssh", bastions);

  // The internet's background: every public-facing host is probed, SSH is tried on some.
  z.internet.exposed = hosts_of(env, {Role::web, Role::bastion, Role::lb, Role::nat, Role::windows});
  z.internet.ssh_exposed = hosts_of(env, {Role::bastion, Role::windows});
  z.internet.probes_per_host = uniform_real(rng, 0.2, 1.0);
  z.internet.ssh_per_host = uniform_real(rng, 0.6, 1.4);
  member("internet-ssh", z.internet.ssh_exposed);
  member("internet-scanning", z.internet.exposed);

  // Resolvers recurse to authoritative servers, a few of them never seen before.
  z.dns_authorities = book.fresh(rng, 300);
  z.dns_new_authority_share = uniform_real(rng, 0.03, 0.2);
  member("dns-recursion", env.of(Role::dns));

  if (!windows.empty()) {
    z.windows.microsoft = ZipfPool(book.fresh(rng, 400), 0.8);
    for (std::size_t i = 0; i < windows.size(); ++i) {
      z.windows.telemetry_period.push_back(uniform_int(rng, 5, 20));
      z.windows.update_hour.push_back(uniform_int(rng, 0, 23));
    }
    z.windows.update_bytes = log_uniform(rng, 2e7, 5e8);
    member("windows-update", windows);
  }

  if (chance(rng, 0.8)) {
    std::vector<std::size_t> sources = env.of(Role::db);
    if (chance(rng, 0.5) && !env.of(Role::app).empty()) sources.push_back(env.of(Role::app).front());
    const bool external = chance(rng, 0.5);
    const std::uint32_t vault = book.fresh_one(rng);
    for (const auto h : sources) {
      BackupJob b;
      b.host = h;
      b.target = external ? Peer{-1, vault} : internal_peer(env, env.of(Role::batch).back());
      b.start_second = uniform_int(rng, 0, 5 * 60) * minute;
      b.minutes = uniform_int(rng, 15, 90);
      b.bytes = log_uniform(rng, 1e9, 2e10) * std::sqrt(scale);
      z.backups.push_back(b);
    }
    member("backups", sources);
  }

  if (chance(rng, 0.9)) {
    static constexpr int periods[] = {7, 11, 13, 17, 23, 37, 53, 90, 150};
    const int jobs = uniform_int(rng, 2, 8);
    const auto hosts = hosts_of(env, {Role::app, Role::batch, Role::db});
    std::vector<std::size_t> cron_hosts;
    for (int j = 0; j < jobs; ++j) {
      CronJob c;
      c.host = pick(rng, hosts);
      std::vector<std::size_t> servers;  // an internal database or app server other than itself
      for (const auto h : hosts_of(env, {Role::db, Role::app})) {
        if (h != c.host) servers.push_back(h);
      }
      if (!servers.empty() && chance(rng, 0.5)) {
        c.target = internal_peer(env, pick(rng, servers));
        c.port = env.host(static_cast<std::size_t>(c.target.host)).role == Role::db ? 5432 : 8080;
      } else {
        c.target = {-1, book.fresh_one(rng)};
        c.port = 443;
      }
      c.period_minutes = periods[uniform_int(rng, 0, static_cast<int>(std::size(periods)) - 1)];
      c.offset_minutes = uniform_int(rng, 0, c.period_minutes - 1);
      c.connections = uniform_int(rng, 1, 20);
      c.bytes = log_uniform(rng, 1e4, 2e6);
      z.cron.push_back(c);
      cron_hosts.push_back(c.host);
    }
    member("cron", cron_hosts);
  }

  if (!env.of(Role::ci).empty()) {
    z.ci.mirrors = ZipfPool(book.fresh(rng, 60), 1.0);
    z.ci.builds_per_hour = uniform_real(rng, 1, 6);
    z.ci.new_peer_share = uniform_real(rng, 0.1, 0.3);
    member("ci-runners", env.of(Role::ci));
  }

  if (const auto& scaled_hosts = env.of(Role::autoscale); !scaled_hosts.empty()) {
    const int days = run_days(finish - start);
    const std::size_t per_day = scaled_hosts.size() / static_cast<std::size_t>(days);
    for (std::size_t i = 0; i < scaled_hosts.size(); ++i) {
      const std::int64_t d = start + static_cast<std::int64_t>(i / std::max<std::size_t>(per_day, 1)) * day;
      Autoscaled a;
      a.host = scaled_hosts[i];
      a.arrive = d + 8 * hour + uniform_int(rng, -30, 45) * minute;
      a.leave = d + uniform_int(rng, 17 * 60, 21 * 60) * minute;
      z.autoscaled.push_back(a);
    }
    member("autoscale", scaled_hosts);
  }

  if (!env.of(Role::nat).empty()) {
    z.nat.popular = ZipfPool(book.fresh(rng, 200), 1.1);
    z.nat.flows_per_minute = uniform_real(rng, 5, 30) * scale;
    z.nat.new_peer_share = uniform_real(rng, 0.05, 0.25);
    member("nat-gateway", env.of(Role::nat));
  }

  if (!env.of(Role::lb).empty()) {
    z.lb.checks_per_minute = uniform_int(rng, 2, 6);
    z.lb.client_share = uniform_real(rng, 0.2, 0.6);
    member("lb-health-checks", env.of(Role::lb));
  }

  if (!env.of(Role::k8s).empty()) {
    z.k8s.pods_per_node = uniform_int(rng, 5, 20);
    z.k8s.min_life_minutes = uniform_int(rng, 5, 30);
    z.k8s.max_life_minutes = uniform_int(rng, 60, 480);
    z.k8s.flows_per_pod = uniform_real(rng, 0.5, 3);
    member("kubernetes", env.of(Role::k8s));
  }

  if (chance(rng, 0.5)) {
    const int days = run_days(finish - start);
    z.patch.start = start + uniform_int(rng, 0, days - 1) * day + uniform_int(rng, 1 * 60, 22 * 60) * minute;
    z.patch.minutes = uniform_int(rng, 30, 180);
    z.patch.bytes_per_host = log_uniform(rng, 5e7, 1e9);
    z.patch.mirrors = ZipfPool(book.fresh(rng, 30), 0.7);
    member("patch-day", hosts_of(env, {Role::web, Role::app, Role::db, Role::batch, Role::bastion, Role::ci, Role::k8s,
                                       Role::windows}));
  }

  if (chance(rng, 0.9)) {
    static const char* names[] = {"monitoring-agent", "edr-agent", "log-shipper"};
    static constexpr std::uint16_t ports[] = {443, 443, 8443, 443};
    const int count = uniform_int(rng, 1, 3);
    std::vector<std::size_t> all;  // autoscaled hosts come and go; their agents are not modelled
    for (std::size_t h = 0; h < env.hosts().size(); ++h) {
      if (env.host(h).role != Role::autoscale) all.push_back(h);
    }
    std::vector<std::size_t> agent_hosts;
    for (int i = 0; i < count; ++i) {
      SaasAgent a;
      a.name = names[i];
      a.port = ports[uniform_int(rng, 0, 3)];
      a.period_minutes = uniform_int(rng, 1, 15);
      a.new_peer_share = uniform_real(rng, 0.1, 0.5);
      a.endpoints = book.fresh(rng, static_cast<std::size_t>(uniform_int(rng, 20, 200)));
      const double share = uniform_real(rng, 0.5, 1.0);
      for (const auto h : all) {
        if (chance(rng, share)) a.hosts.push_back(h);
      }
      agent_hosts.insert(agent_hosts.end(), a.hosts.begin(), a.hosts.end());
      z.agents.push_back(std::move(a));
    }
    std::sort(agent_hosts.begin(), agent_hosts.end());
    agent_hosts.erase(std::unique(agent_hosts.begin(), agent_hosts.end()), agent_hosts.end());
    member("saas-agents", agent_hosts);
  }
  for (auto& names : z.host_members) names.erase(std::unique(names.begin(), names.end()), names.end());
  return z;
}

}  // namespace flowlier::lab::sim
