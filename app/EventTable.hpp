#pragma once
// A readable table of anomaly events for terminals (replay --table, the demo).
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"

namespace flowlier::app {

struct EventTableOptions {
  // Rows before this time (Unix seconds) are marked "warm-up": the baselines were still
  // learning, so an evaluation usually leaves them out.
  std::optional<std::int64_t> warm_up_until;
};

// Whole entity ids (columns widen to fit), one line per event, then a legend line
// for the warm-up mark when a row carries it.
void print_event_table(std::FILE* out, const std::vector<pipeline::AnomalyEvent>& events,
                       const EventTableOptions& options = {});

// The "value (expected)" cell as an operator says it: "26.6 kB (102 B)", or for a
// beacon "every 9.0 min, CV 0.04, 8 contacts".
std::string event_value_cell(const pipeline::AnomalyEvent& event);

}  // namespace flowlier::app
