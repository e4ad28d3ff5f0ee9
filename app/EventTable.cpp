#include "app/EventTable.hpp"

#include <fmt/format.h>

#include "models/Feature.hpp"
#include "pipeline/Explanation.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::app {

void print_event_table(std::FILE* out, const std::vector<pipeline::AnomalyEvent>& events) {
  fmt::print(out, "{:<20} {:<8} {:<8} {:>5}  {:<28} {:<15} {:>22}  {:<13} {}\n", "time", "status", "severity", "score",
             "entity", "feature", "value (expected)", "category", "top contributors");
  for (const auto& e : events) {
    const auto feature = models::parse_feature(e.feature).value_or(models::Feature::flows);
    std::string tops;
    for (const auto& c : e.contributors) {
      if (tops.size() > 40) break;
      tops += fmt::format("{}{} {:.0f}%", tops.empty() ? "" : ", ", c.value, 100 * c.share);
    }
    const std::string entity = fmt::format("{} {}", e.entity_kind, e.entity_id);
    const std::string value = fmt::format("{} ({})", pipeline::human_value(feature, e.value),
                                          pipeline::human_value(feature, e.expected));
    fmt::print(out, "{:<20} {:<8} {:<8} {:>5.1f}  {:<28} {:<15} {:>22}  {:<13} {}\n",
               pipeline::formats::format_rfc3339(e.time * 1'000'000'000), pipeline::to_string(e.status),
               pipeline::to_string(e.severity), e.score, entity.substr(0, 28), e.feature, value,
               e.category.empty() ? "-" : e.category, tops);
  }
  if (events.empty()) fmt::print(out, "(no anomaly events)\n");
}

}  // namespace flowlier::app
