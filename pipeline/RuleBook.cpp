#include "pipeline/RuleBook.hpp"

#include <fmt/format.h>

#include "pipeline/RuleMatch.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::pipeline {

RuleBook::RuleBook(std::vector<Rule> rules, Notice notice) : rules_(std::move(rules)), notice_(std::move(notice)) {}

void RuleBook::replace(std::vector<Rule> rules) {
  std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
  // A rule given a new expiry by the reload is reported again when that one passes.
  expired_.clear();
}

bool RuleBook::apply(AnomalyEvent& finding) {
  std::vector<std::string> notices;
  bool kept = true;
  {
    std::lock_guard lock(mutex_);
    if (rules_.empty()) return true;
    std::vector<std::size_t> expired;
    const Rule* rule = first_matching_rule(rules_, finding, &expired);
    for (const std::size_t i : expired) {
      const Rule& r = rules_[i];
      if (!expired_.insert(r.name).second) continue;
      notices.push_back(fmt::format("rule '{}' expired at {} and is ignored from now on (first finding after it: {})",
                                    r.name, formats::format_rfc3339(*r.expires * 1'000'000'000),
                                    formats::format_rfc3339(finding.time * 1'000'000'000)));
    }
    if (rule) {
      ++matches_[rule->name];
      kept = apply_rule(*rule, finding);
    }
  }
  // Outside the lock: the notice may write to a slow stderr.
  if (notice_) {
    for (const auto& n : notices) notice_(n);
  }
  return kept;
}

std::size_t RuleBook::size() const {
  std::lock_guard lock(mutex_);
  return rules_.size();
}

std::vector<RuleCount> RuleBook::counts() const {
  std::lock_guard lock(mutex_);
  std::vector<RuleCount> out;
  std::set<std::string> listed;
  for (const auto& r : rules_) {
    const auto it = matches_.find(r.name);
    out.push_back({r.name, it == matches_.end() ? 0 : it->second, expired_.contains(r.name)});
    listed.insert(r.name);
  }
  for (const auto& [name, n] : matches_) {
    if (!listed.contains(name)) out.push_back({name, n, false});
  }
  return out;
}

}  // namespace flowlier::pipeline
