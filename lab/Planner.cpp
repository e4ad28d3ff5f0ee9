#include "lab/Planner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "lab/BenignTraffic.hpp"
#include "lab/Incidents.hpp"
#include "lab/ZooPlanner.hpp"

namespace flowlier::lab::sim {

std::vector<std::uint32_t> AddressBook::fresh(Rng& rng, std::size_t n) {
  std::vector<std::uint32_t> out;
  while (out.size() < n) {
    const std::uint32_t a = random_public_ipv4(rng);
    if (used_.insert(a).second) out.push_back(a);
  }
  return out;
}

namespace {

// Benign changes: their own stream, identical with or without incidents.
void plan_changes(const SimConfig& config, const Environment& env, AddressBook& book, Plan& p) {
  Rng crng = stream(config.seed, 4);
  const std::int64_t region_start = p.labels.warmup_end;
  const std::int64_t region_len = p.labels.end - region_start;
  Changes& c = p.changes;
  c.deploy_web_tier = chance(crng, 0.5);
  c.deploy_start = align_minute(
      region_start + static_cast<std::int64_t>(uniform_real(crng, 0.05, 0.6) * static_cast<double>(region_len)));
  c.new_clients_start = align_minute(
      region_start + static_cast<std::int64_t>(uniform_real(crng, 0.3, 0.9) * static_cast<double>(region_len)));
  c.new_clients = ZipfPool(book.fresh(crng, static_cast<std::size_t>(std::max(20.0, 800 * config.scale))), 1.0);

  LabelledSpan deploy;
  deploy.id = "chg-01";
  deploy.type = "deploy";
  deploy.start = c.deploy_start;
  deploy.end = p.labels.end;
  const Role from = c.deploy_web_tier ? Role::web : Role::app;
  const Role to = c.deploy_web_tier ? Role::app : Role::db;
  std::vector<std::size_t> hosts = env.of(from);
  hosts.insert(hosts.end(), env.of(to).begin(), env.of(to).end());
  deploy.entities = host_entities(env, hosts);
  deploy.description = fmt::format("deploy of the {} tier doubles {} -> {} calls from here on (level shift)",
                                   role_name(from), role_name(from), role_name(to));
  p.labels.benign_changes.push_back(std::move(deploy));

  LabelledSpan fresh;
  fresh.id = "chg-02";
  fresh.type = "new-clients";
  fresh.start = c.new_clients_start;
  fresh.end = p.labels.end;
  fresh.entities = host_entities(env, env.of(Role::web));
  fresh.description = fmt::format("{} new internet clients appear and stay, adding {:.0f}% to web traffic",
                                  c.new_clients.addresses().size(), Rates::new_client_share * 100);
  p.labels.benign_changes.push_back(std::move(fresh));
}

// The span after warm-up is cut into one slot per type, in seed-shuffled order; each
// incident starts at a random minute in the first half of its slot.
void plan_incidents(const SimConfig& config, const Environment& env, AddressBook& book, Rng& rng, Plan& p) {
  std::vector<IncidentType> order;
  for (std::size_t t = 0; t < incident_names.size(); ++t) order.push_back(static_cast<IncidentType>(t));
  std::shuffle(order.begin(), order.end(), rng);
  // Incidents that run for hours stay out of the last three slots, so they are not cut short.
  const auto safe = static_cast<int>(order.size()) - 4;
  for (std::size_t k = order.size() - 3; k < order.size(); ++k) {
    if (!long_running(order[k])) continue;
    for (int tries = 0; tries < 64; ++tries) {
      const auto j = static_cast<std::size_t>(uniform_int(rng, 0, safe));
      if (!long_running(order[j])) {
        std::swap(order[j], order[k]);
        break;
      }
    }
  }
  const std::int64_t region_start = p.labels.warmup_end;
  const std::int64_t slot = (p.labels.end - region_start) / static_cast<std::int64_t>(order.size());
  const IncidentContext ctx{env, book, config.scale, p.traffic, p.labels.end};
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::int64_t slot_start = region_start + static_cast<std::int64_t>(k) * slot;
    const std::int64_t lead = std::min<std::int64_t>(15 * minute, slot / 10);
    const std::int64_t start =
        align_minute(slot_start + lead +
                     static_cast<std::int64_t>(uniform_real(rng, 0, 1) *
                                               static_cast<double>(std::max<std::int64_t>(slot / 2 - lead, 0))));
    LabelledSpan label;
    Injection inj = plan_incident(order[k], start, rng, ctx, label);
    inj.rng = stream(config.seed, 100 + k);
    p.injections.push_back(std::move(inj));
    p.labels.incidents.push_back(std::move(label));
  }
  // Starts increase with the slot, so this order is already by start; ids follow it.
  for (std::size_t k = 0; k < p.labels.incidents.size(); ++k) {
    p.labels.incidents[k].id = fmt::format("inc-{:02}", k + 1);
  }
}

// One more, where the estate has instances launched after warm-up that live a few hours:
// a newcomer sweeps the network 30-120 minutes after launch. Drawn from streams of its
// own and numbered last, so every other incident (and its id) is the same without it.
void plan_newcomer_incident(const SimConfig& config, const Environment& env, AddressBook& book, Plan& p) {
  std::vector<const Autoscaled*> launched;
  for (const auto& a : p.zoo.autoscaled) {
    const std::int64_t until = std::min(a.leave, p.labels.end);
    if (a.arrive >= p.labels.warmup_end && until - a.arrive >= 3 * hour) launched.push_back(&a);
  }
  if (launched.empty()) return;
  Rng rng = stream(config.seed, 90);
  const Autoscaled& a = *launched[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(launched.size()) - 1))];
  const std::int64_t start = align_minute(a.arrive + uniform_int(rng, 30, 120) * minute);
  const IncidentContext ctx{env, book, config.scale, p.traffic, std::min(p.labels.end, a.leave)};
  LabelledSpan label;
  Injection inj = plan_newcomer_sweep(a.host, start, rng, ctx, label);
  inj.rng = stream(config.seed, 91);
  label.id = fmt::format("inc-{:02}", p.labels.incidents.size() + 1);
  p.injections.push_back(std::move(inj));
  p.labels.incidents.push_back(std::move(label));
}

void describe_estate(const Environment& env, const Zoo& zoo, Labels& labels) {
  labels.zoo = zoo.members;
  for (std::size_t h = 0; h < env.hosts().size(); ++h) {
    const Host& host = env.host(h);
    EstateHost e;
    e.role = role_name(host.role);
    e.interface = host.eni;
    e.address = ipv4_text(host.address);
    e.zoo = zoo.host_members[h];
    if (host.role == Role::k8s) {
      const auto pos = static_cast<unsigned>(std::find(env.of(Role::k8s).begin(), env.of(Role::k8s).end(), h) -
                                             env.of(Role::k8s).begin());
      e.pods = fmt::format("10.0.{}.0/24", 32 + pos % 32);
    }
    for (const auto& a : zoo.autoscaled) {
      if (a.host == h) e.present = {a.arrive, a.leave};
    }
    labels.estate.push_back(std::move(e));
  }
}

}  // namespace

std::optional<Prepared> prepare(const SimConfig& config, std::string& error) {
  error = validate(config);
  if (!error.empty()) return std::nullopt;
  const std::int64_t finish = config.start + config.duration_seconds;
  Rng shape_rng = stream(config.seed, 5);
  const EstateShape shape = draw_shape(shape_rng, config.scale, config.duration_seconds);
  Rng env_rng = stream(config.seed, 1);
  Prepared prepared{Environment::build(shape, env_rng), {}};
  const Environment& env = prepared.env;
  Plan& p = prepared.plan;
  AddressBook book;

  p.traffic = uniform_real(shape_rng, 0.7, 1.4);
  p.zoo = draw_zoo(shape_rng, env, config.start, finish, config.scale, book);
  for (const auto& name : config.zoo_exclude) p.zoo.exclude(name);

  Rng rng = stream(config.seed, 2);
  const auto clients = static_cast<std::size_t>(std::max(50.0, 3000 * config.scale * p.traffic));
  p.clients = ZipfPool(book.fresh(rng, clients), 1.05);
  p.apis = book.fresh(rng, 3);
  p.ntp = book.fresh(rng, 2);
  p.upstream_dns = {ipv4(1, 1, 1, 1), ipv4(8, 8, 8, 8)};
  for (unsigned i = 0; i < 4; ++i) {
    p.s3.push_back(ipv4(52, 216, static_cast<unsigned>(uniform_int(rng, 0, 255)), 10 + i * 7));
  }
  for (const auto a : p.s3) book.reserve(a);
  for (const auto a : p.upstream_dns) book.reserve(a);

  p.labels.seed = config.seed;
  p.labels.start = config.start;
  p.labels.end = finish;
  p.labels.window_seconds = minute;
  p.labels.warmup_end = warmup_end_for(config.start, config.duration_seconds);
  plan_changes(config, env, book, p);
  if (config.incidents) {
    plan_incidents(config, env, book, rng, p);
    plan_newcomer_incident(config, env, book, p);
  }
  describe_estate(env, p.zoo, p.labels);
  return prepared;
}

}  // namespace flowlier::lab::sim
