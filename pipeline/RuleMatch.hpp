#pragma once
// Pure matching of rules against a finding. No clocks: expiry is judged at the
// finding's event time, so replay and live agree and `rules test` shows on past data
// what the rule would have done then.
#include <cstdint>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/Rules.hpp"

namespace flowlier::pipeline {

// Whether every condition of `rule` holds for `finding` (expiry not considered).
bool rule_matches(const Rule& rule, const AnomalyEvent& finding);

bool rule_expired(const Rule& rule, std::int64_t event_time);

// The first rule that matches and has not expired at the finding's time, or null.
// `expired_seen` (optional) receives the index of every matching rule skipped as expired.
const Rule* first_matching_rule(const std::vector<Rule>& rules, const AnomalyEvent& finding,
                                std::vector<std::size_t>* expired_seen = nullptr);

// Applies `rule` to `finding`: marks it with the rule, downgrades its severity (never
// raises it). Returns false when the rule suppresses it.
bool apply_rule(const Rule& rule, AnomalyEvent& finding);

}  // namespace flowlier::pipeline
