#pragma once
// A readable table of anomaly events for terminals (replay --table, the demo).
#include <cstdio>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"

namespace flowlier::app {

void print_event_table(std::FILE* out, const std::vector<pipeline::AnomalyEvent>& events);

}  // namespace flowlier::app
