#pragma once
// Operator rules ([[rules]] in the config): what is known-benign or known-minor,
// scoped by what an anomaly is about, with a reason and an optional expiry.
// A rule matches a finding (the lead event of one incident in one window) when every
// condition it sets holds; a list condition holds when any of its items does. The
// first matching rule that has not expired acts: suppress (no event, no episode),
// downgrade (to `severity`), or tag (the event is kept and says which rule).
// Plain values; parsing is in parse_rules (RuleParse.cpp), matching in RuleMatch.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ConfigDocument.hpp"
#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/IpAddress.hpp"

namespace flowlier::pipeline {

enum class RuleAction : std::uint8_t { suppress, downgrade, tag };
const char* to_string(RuleAction);

struct PortMatch {
  std::uint16_t port = 0;
  std::string protocol;  // "tcp", "udp", a number, or "" for any
};

struct Rule {
  std::string name;    // unique; the label of its metrics and the event's rule.name
  std::string reason;  // required: why this is benign or minor
  RuleAction action = RuleAction::tag;
  Severity severity = Severity::info;         // downgrade: the severity events get
  std::optional<std::int64_t> expires;        // event time (Unix seconds) after which it is ignored
  std::uint32_t line = 0;                     // where it is defined, for messages

  // Conditions; empty = any.
  std::vector<std::string> entity_ids;        // entity (or a related entity of the incident) id
  std::vector<Cidr> entity_networks;          // entity address within
  std::vector<std::string> entity_kinds;
  std::vector<Cidr> peer_networks;            // a peer contributor within
  std::vector<PortMatch> ports;               // a port contributor equal
  std::vector<std::string> protocols;         // a port contributor of this protocol
  std::vector<std::string> categories;
  std::vector<std::string> detectors;
  std::vector<std::string> features;
  std::optional<Severity> min_severity;       // the finding's severity at least this
};

struct RulesResult {
  std::vector<Rule> rules;
  std::string error;  // empty on success; else "FILE:LINE: what is wrong"
};

// Reads the [[rules]] array of a config file's text (other keys are left to
// parse_config). Unknown rule keys, bad CIDRs, times or severities, a missing
// reason and duplicate names are errors naming the line.
[[nodiscard]] RulesResult parse_rules(std::string_view text, const std::string& source_name);
// The same from a parsed file (read_config calls it).
[[nodiscard]] RulesResult read_rules(const core::ConfigDocument& document);

}  // namespace flowlier::pipeline
