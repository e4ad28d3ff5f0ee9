#pragma once
// What rules would have done to past episodes (`flowlier rules test`): the events of
// one replay without rules and one with them, grouped into episodes; each episode of
// the first is given to the first rule that matches one of its firing events at that
// event's time (the same matcher the engine uses), and its fate in the second run says
// what the rule changed. Pure: no I/O.
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/Rules.hpp"

namespace flowlier::pipeline {

struct EpisodeSummary {
  std::string id;
  std::string entity_kind;
  std::string entity_id;
  std::vector<RelatedEntity> related;
  std::int64_t start = 0;        // first window's start
  std::int64_t end = 0;          // resolve time, or last window's end if still open
  Severity max_severity = Severity::info;
  std::string category;          // of the opening event
  std::string detector;
  std::string feature;
  bool resolved = false;
};

// Episodes of an event stream, in order of their first event.
std::vector<EpisodeSummary> summarize_episodes(const std::vector<AnomalyEvent>& events);

struct RuleEffect {
  EpisodeSummary before;                 // the episode without rules
  bool present_after = false;            // an episode with this id exists with the rules
  Severity severity_after = Severity::info;
};

struct RuleReport {
  const Rule* rule = nullptr;
  std::vector<RuleEffect> episodes;
};

// One report per rule, in rule order (a rule that touched nothing has an empty list).
std::vector<RuleReport> rule_reports(const std::vector<Rule>& rules, const std::vector<AnomalyEvent>& without_rules,
                                     const std::vector<AnomalyEvent>& with_rules);

}  // namespace flowlier::pipeline
