// parse_rules: the [[rules]] array of the config (see Rules.hpp for the model).
#include <algorithm>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/NearestName.hpp"
#include "core/TomlReader.hpp"
#include "pipeline/Rules.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

const char* to_string(RuleAction a) {
  switch (a) {
    case RuleAction::suppress: return "suppress";
    case RuleAction::downgrade: return "downgrade";
    case RuleAction::tag: return "tag";
  }
  return "tag";
}

namespace {
const std::vector<std::string> kRuleKeys = {"name",    "reason",   "action",   "severity", "expires",
                                            "entity",  "entity_kind", "peer",  "port",     "protocol",
                                            "category", "detector", "feature", "min_severity"};

struct Failure {
  std::uint32_t line;
  std::string what;
};

using core::line_of;

// A string or an array of strings.
std::vector<std::string> strings(const toml::node& node, std::string_view key) {
  std::vector<std::string> out;
  if (auto v = node.value<std::string>()) {
    out.push_back(*v);
    return out;
  }
  const auto* array = node.as_array();
  if (!array) throw Failure{line_of(node), fmt::format("'{}' must be a string or an array of strings", key)};
  for (const auto& item : *array) {
    auto v = item.value<std::string>();
    if (!v) throw Failure{line_of(item), fmt::format("'{}' must be a string or an array of strings", key)};
    out.push_back(*v);
  }
  return out;
}

Severity severity(const toml::node& node, std::string_view key) {
  auto text = node.value<std::string>();
  auto s = text ? parse_severity(*text) : std::nullopt;
  if (!s) throw Failure{line_of(node), fmt::format("'{}' must be info, low, medium, high or critical", key)};
  return *s;
}

// 22, "22", "tcp/22".
PortMatch port(const toml::node& node) {
  const auto fail = [&] {
    return Failure{line_of(node), "'port' must be a port number (1-65535), \"PROTOCOL/PORT\", or an array of them"};
  };
  std::int64_t number = 0;
  PortMatch m;
  if (auto v = node.value<std::int64_t>()) {
    number = *v;
  } else if (auto s = node.value<std::string>()) {
    std::string digits = *s;
    if (const auto slash = s->find('/'); slash != std::string::npos) {
      m.protocol = s->substr(0, slash);
      digits = s->substr(slash + 1);
    }
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) throw fail();
    number = std::stoll(digits);
  } else {
    throw fail();
  }
  if (number < 1 || number > 65535) throw fail();
  m.port = static_cast<std::uint16_t>(number);
  return m;
}

Rule read_rule(const toml::table& t, std::size_t index) {
  Rule r;
  r.line = line_of(t);
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    if (std::find(kRuleKeys.begin(), kRuleKeys.end(), k) == kRuleKeys.end()) {
      const std::string near = core::nearest_name(k, kRuleKeys);
      throw Failure{line_of(node), fmt::format("unknown key 'rules.{}'{}", k,
                                               near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near))};
    }
  }
  const auto text = [&](std::string_view key) -> std::optional<std::string> {
    const toml::node* node = t.get(key);
    if (!node) return std::nullopt;
    auto v = node->value<std::string>();
    if (!v) throw Failure{line_of(*node), fmt::format("'{}' must be a string", key)};
    return v;
  };
  r.name = text("name").value_or(fmt::format("rule-{}", index + 1));
  // A metrics label and a word in messages: kept to characters that need no escaping.
  if (r.name.empty() || r.name.size() > 64 ||
      r.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") != std::string::npos) {
    throw Failure{t.get("name") ? line_of(*t.get("name")) : r.line,
                  fmt::format("'name' must be 1-64 letters, digits or _.:- (got '{}')", r.name)};
  }
  r.reason = text("reason").value_or("");
  if (r.reason.empty()) throw Failure{r.line, fmt::format("rule '{}' needs a 'reason'", r.name)};
  const std::string action = text("action").value_or("");
  if (action == "suppress") r.action = RuleAction::suppress;
  else if (action == "downgrade") r.action = RuleAction::downgrade;
  else if (action == "tag") r.action = RuleAction::tag;
  else throw Failure{t.get("action") ? line_of(*t.get("action")) : r.line,
                     fmt::format("rule '{}': 'action' must be \"suppress\", \"downgrade\" or \"tag\"", r.name)};
  if (const toml::node* s = t.get("severity")) {
    if (r.action != RuleAction::downgrade) throw Failure{line_of(*s), "'severity' is only for action = \"downgrade\""};
    r.severity = severity(*s, "severity");
  } else if (r.action == RuleAction::downgrade) {
    throw Failure{r.line, fmt::format("rule '{}': action = \"downgrade\" needs a 'severity'", r.name)};
  }
  if (const toml::node* e = t.get("expires")) {
    std::optional<std::int64_t> ns;
    if (auto s = e->value<std::string>()) ns = formats::parse_rfc3339(*s);
    if (auto d = e->as_date_time()) {
      // TOML's own offset date-time: written back as RFC 3339 and read the same way.
      std::ostringstream out;
      out << *d;
      ns = formats::parse_rfc3339(out.str());
    }
    if (!ns) throw Failure{line_of(*e), "'expires' must be an RFC 3339 time such as 2027-01-31T00:00:00Z"};
    r.expires = *ns / 1'000'000'000;
  }
  if (const toml::node* n = t.get("entity")) {
    for (const auto& item : strings(*n, "entity")) {
      if (item.find('/') != std::string::npos) {
        auto cidr = Cidr::parse(item);
        if (!cidr) throw Failure{line_of(*n), fmt::format("'entity' holds '{}', which is not a CIDR", item)};
        r.entity_networks.push_back(*cidr);
      } else {
        r.entity_ids.push_back(item);
      }
    }
  }
  if (const toml::node* n = t.get("entity_kind")) r.entity_kinds = strings(*n, "entity_kind");
  if (const toml::node* n = t.get("peer")) {
    for (const auto& item : strings(*n, "peer")) {
      auto cidr = item.find('/') != std::string::npos ? Cidr::parse(item) : Cidr::parse(item + (item.find(':') != std::string::npos ? "/128" : "/32"));
      if (!cidr) throw Failure{line_of(*n), fmt::format("'peer' holds '{}', which is not an address or CIDR", item)};
      r.peer_networks.push_back(*cidr);
    }
  }
  if (const toml::node* n = t.get("port")) {
    if (const auto* array = n->as_array()) {
      for (const auto& item : *array) r.ports.push_back(port(item));
    } else {
      r.ports.push_back(port(*n));
    }
  }
  if (const toml::node* n = t.get("protocol")) r.protocols = strings(*n, "protocol");
  if (const toml::node* n = t.get("category")) r.categories = strings(*n, "category");
  if (const toml::node* n = t.get("detector")) r.detectors = strings(*n, "detector");
  if (const toml::node* n = t.get("feature")) r.features = strings(*n, "feature");
  if (const toml::node* n = t.get("min_severity")) r.min_severity = severity(*n, "min_severity");
  return r;
}
}  // namespace

RulesResult parse_rules(std::string_view text, const std::string& source_name) {
  auto parsed = core::parse_config_document(text, source_name);
  if (!parsed.error.empty()) return RulesResult{{}, std::move(parsed.error)};
  return read_rules(parsed.document);
}

RulesResult read_rules(const core::ConfigDocument& document) {
  RulesResult result;
  const std::string& source_name = document.source();
  const toml::node* node = document.tree().root.get("rules");
  if (!node) return result;
  const auto* array = node->as_array();
  if (!array || !array->is_array_of_tables()) {
    result.error = fmt::format("{}:{}: 'rules' must be an array of tables ([[rules]])", source_name, line_of(*node));
    return result;
  }
  std::set<std::string> names;
  try {
    for (std::size_t i = 0; i < array->size(); ++i) {
      Rule r = read_rule(*array->get(i)->as_table(), i);
      if (!names.insert(r.name).second) throw Failure{r.line, fmt::format("a second rule named '{}'", r.name)};
      result.rules.push_back(std::move(r));
    }
  } catch (const Failure& f) {
    result.rules.clear();
    result.error = fmt::format("{}:{}: {}", source_name, f.line, f.what);
  }
  return result;
}

}  // namespace flowlier::pipeline
