#include "pipeline/RuleReport.hpp"

#include <algorithm>
#include <map>

#include "pipeline/RuleMatch.hpp"

namespace flowlier::pipeline {

std::vector<EpisodeSummary> summarize_episodes(const std::vector<AnomalyEvent>& events) {
  std::vector<EpisodeSummary> out;
  std::map<std::string, std::size_t> index;
  for (const auto& e : events) {
    auto [it, added] = index.emplace(e.episode, out.size());
    if (added) {
      EpisodeSummary s;
      s.id = e.episode;
      s.entity_kind = e.entity_kind;
      s.entity_id = e.entity_id;
      s.related = e.related;
      s.start = e.window_start;
      s.category = e.category;
      s.detector = e.detector;
      s.feature = e.feature;
      out.push_back(std::move(s));
    }
    EpisodeSummary& s = out[it->second];
    s.end = std::max(s.end, e.status == EventStatus::resolved ? e.time : e.window_end);
    s.max_severity = std::max(s.max_severity, e.severity);
    if (e.status == EventStatus::resolved) s.resolved = true;
  }
  return out;
}

std::vector<RuleReport> rule_reports(const std::vector<Rule>& rules, const std::vector<AnomalyEvent>& without_rules,
                                     const std::vector<AnomalyEvent>& with_rules) {
  std::vector<RuleReport> reports(rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) reports[i].rule = &rules[i];
  std::map<std::string, EpisodeSummary> after;
  for (auto& s : summarize_episodes(with_rules)) after.emplace(s.id, std::move(s));
  const auto before = summarize_episodes(without_rules);
  for (const auto& episode : before) {
    // The first firing event of the episode that a rule matches decides.
    const Rule* rule = nullptr;
    for (const auto& e : without_rules) {
      if (e.episode != episode.id || e.status != EventStatus::firing) continue;
      if ((rule = first_matching_rule(rules, e)) != nullptr) break;
    }
    if (!rule) continue;
    RuleEffect effect{episode};
    if (const auto it = after.find(episode.id); it != after.end()) {
      effect.present_after = true;
      effect.severity_after = it->second.max_severity;
    }
    reports[static_cast<std::size_t>(rule - rules.data())].episodes.push_back(std::move(effect));
  }
  return reports;
}

}  // namespace flowlier::pipeline
