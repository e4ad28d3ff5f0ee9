#pragma once
// The rules' place in the commands: a RuleBook that reports expired rules on stderr,
// its Prometheus families for `run`'s /metrics, and the SIGHUP reload.
#include <memory>
#include <string>
#include <vector>

#include "pipeline/RuleBook.hpp"

namespace flowlier::service {

// `program` prefixes its stderr notices ("run", "replay").
std::shared_ptr<pipeline::RuleBook> make_rule_book(std::vector<pipeline::Rule> rules, const std::string& program);

// flowlier_rules_loaded, flowlier_rule_matches_total{rule=...}, flowlier_rule_expired{rule=...}.
std::string render_rule_metrics(const pipeline::RuleBook& book);

// Re-reads the rules from `config_path` (the whole file is validated). On success the
// book takes them and the message says how many; on any error the book keeps its
// rules and the message says why (FILE:LINE). Engine state is never touched.
std::string reload_rules(pipeline::RuleBook& book, const std::string& config_path);

}  // namespace flowlier::service
