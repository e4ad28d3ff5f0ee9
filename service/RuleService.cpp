#include "service/RuleService.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "pipeline/Config.hpp"
#include "transport/PrometheusText.hpp"

namespace flowlier::service {

std::shared_ptr<pipeline::RuleBook> make_rule_book(std::vector<pipeline::Rule> rules, const std::string& program) {
  return std::make_shared<pipeline::RuleBook>(
      std::move(rules), [program](const std::string& line) { fmt::print(stderr, "{}: {}\n", program, line); });
}

std::string render_rule_metrics(const pipeline::RuleBook& book) {
  transport::PrometheusText t;
  t.gauge("flowlier_rules_loaded", "Operator rules ([[rules]]) in force.", static_cast<double>(book.size()));
  std::vector<std::pair<std::string, double>> matches, expired;
  for (const auto& c : book.counts()) {
    matches.emplace_back(c.name, static_cast<double>(c.matches));
    expired.emplace_back(c.name, c.expired ? 1.0 : 0.0);
  }
  if (!matches.empty()) {
    t.counter_family("flowlier_rule_matches_total",
                     "Findings a rule suppressed, downgraded or tagged (each would have opened or kept an episode).",
                     "rule", matches);
    t.gauge_family("flowlier_rule_expired", "1 once a rule matched a finding after its expiry (it is ignored).",
                   "rule", expired);
  }
  return t.text();
}

std::string reload_rules(pipeline::RuleBook& book, const std::string& config_path) {
  if (config_path.empty()) return "no config file (-c) to reload rules from; rules unchanged";
  auto loaded = pipeline::load_config_file(config_path);
  if (!loaded.error.empty()) {
    return fmt::format("rules not reloaded, keeping the {} rule(s) in force: {}", book.size(), loaded.error);
  }
  const std::size_t count = loaded.config.rules.size();
  book.replace(std::move(loaded.config.rules));
  return fmt::format("reloaded {} rule(s) from {} (other settings take effect at restart)", count, config_path);
}

}  // namespace flowlier::service
