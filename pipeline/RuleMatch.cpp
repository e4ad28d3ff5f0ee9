#include "pipeline/RuleMatch.hpp"

#include <algorithm>
#include <charconv>

namespace flowlier::pipeline {

namespace {
template <typename T>
bool any_equal(const std::vector<T>& items, const T& value) {
  return std::find(items.begin(), items.end(), value) != items.end();
}

// Contributor keys that name a peer address or a port (pipeline/Explanation).
bool is_peer_key(const std::string& key) { return key == "peer" || key == "new_peer" || key == "source"; }
bool is_port_key(const std::string& key) { return key == "port" || key == "new_port"; }

// "tcp/22" -> {"tcp", 22}.
bool split_port(const std::string& text, std::string& protocol, std::uint16_t& port) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  protocol = text.substr(0, slash);
  const char* begin = text.data() + slash + 1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, port);
  return ec == std::errc() && ptr == end;
}

bool entity_matches(const Rule& rule, const std::string& kind, const std::string& id) {
  if (!rule.entity_kinds.empty() && !any_equal(rule.entity_kinds, kind)) return false;
  if (rule.entity_ids.empty() && rule.entity_networks.empty()) return true;
  if (any_equal(rule.entity_ids, id)) return true;
  const auto address = IpAddress::parse(id);
  return address && std::any_of(rule.entity_networks.begin(), rule.entity_networks.end(),
                                [&](const Cidr& c) { return c.contains(*address); });
}

// An incident is about its lead entity and the related ones (a host's interface and
// address): a rule on either covers it.
bool incident_matches(const Rule& rule, const AnomalyEvent& e) {
  if (entity_matches(rule, e.entity_kind, e.entity_id)) return true;
  return std::any_of(e.related.begin(), e.related.end(),
                     [&](const RelatedEntity& r) { return entity_matches(rule, r.kind, r.id); });
}

bool peers_match(const Rule& rule, const AnomalyEvent& e) {
  if (rule.peer_networks.empty()) return true;
  for (const auto& c : e.contributors) {
    if (!is_peer_key(c.key)) continue;
    const auto address = IpAddress::parse(c.value);
    if (address && std::any_of(rule.peer_networks.begin(), rule.peer_networks.end(),
                               [&](const Cidr& n) { return n.contains(*address); })) {
      return true;
    }
  }
  return false;
}

bool ports_match(const Rule& rule, const AnomalyEvent& e) {
  if (rule.ports.empty() && rule.protocols.empty()) return true;
  for (const auto& c : e.contributors) {
    std::string protocol;
    std::uint16_t port = 0;
    if (!is_port_key(c.key) || !split_port(c.value, protocol, port)) continue;
    if (!rule.protocols.empty() && !any_equal(rule.protocols, protocol)) continue;
    if (rule.ports.empty()) return true;
    for (const auto& p : rule.ports) {
      if (p.port == port && (p.protocol.empty() || p.protocol == protocol)) return true;
    }
  }
  return false;
}
}  // namespace

bool rule_matches(const Rule& rule, const AnomalyEvent& e) {
  if (rule.min_severity && e.severity < *rule.min_severity) return false;
  if (!rule.categories.empty() && !any_equal(rule.categories, e.category)) return false;
  if (!rule.detectors.empty() && !any_equal(rule.detectors, e.detector)) return false;
  if (!rule.features.empty() && !any_equal(rule.features, e.feature)) return false;
  return incident_matches(rule, e) && peers_match(rule, e) && ports_match(rule, e);
}

bool rule_expired(const Rule& rule, std::int64_t event_time) { return rule.expires && event_time >= *rule.expires; }

const Rule* first_matching_rule(const std::vector<Rule>& rules, const AnomalyEvent& finding,
                                std::vector<std::size_t>* expired_seen) {
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!rule_matches(rules[i], finding)) continue;
    if (rule_expired(rules[i], finding.time)) {
      if (expired_seen) expired_seen->push_back(i);
      continue;
    }
    return &rules[i];
  }
  return nullptr;
}

bool apply_rule(const Rule& rule, AnomalyEvent& finding) {
  finding.rule = RuleMark{rule.name, to_string(rule.action), rule.reason};
  if (rule.action == RuleAction::downgrade) finding.severity = std::min(finding.severity, rule.severity);
  return rule.action != RuleAction::suppress;
}

}  // namespace flowlier::pipeline
