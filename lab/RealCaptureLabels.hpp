#pragma once
// Labels of the real captures in ../shared/data/real (NAME.labels.json: {records, t0, t_end,
// incidents: [{id, type, start, end, entities: ["eni-...", "1.2.3.4", ...]}], grace}), read
// into the simulator's Labels, and automatic detection of which format a labels file has.
#include <optional>
#include <string>
#include <string_view>

#include "lab/Labels.hpp"

namespace flowlier::lab {

enum class LabelsFormat { flowlier_v1, real_capture };
const char* to_string(LabelsFormat format);

struct LoadedLabels {
  Labels labels;
  LabelsFormat format = LabelsFormat::flowlier_v1;
};

// Real-capture labels: times are Unix seconds; the whole capture [t0, t_end] is evaluated
// (no warm-up); each entity string becomes an entity of kind "any"; ids become "inc-<id>".
std::optional<Labels> parse_real_capture_labels(std::string_view text, std::string& error);

// A "schema" key means flowlier.labels.v1; "t0" and "t_end" mean a real capture's labels.
std::optional<LoadedLabels> parse_any_labels(std::string_view text, std::string& error);

}  // namespace flowlier::lab
