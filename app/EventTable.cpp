#include "app/EventTable.hpp"

#include <algorithm>
#include <array>
#include <regex>

#include <fmt/format.h>

#include "models/Feature.hpp"
#include "pipeline/Explanation.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::app {

namespace {
constexpr std::size_t kColumns = 9;
using Row = std::array<std::string, kColumns>;

// The beacon's period and contact count are only in its explanation ("... every 9.0 min
// (8 contacts over 1.2 h): interval CV 0.04 ..."); the event's value is the CV.
std::string beacon_cell(const pipeline::AnomalyEvent& e) {
  static const std::regex schedule(R"(every ([0-9.]+ (?:s|min|h)) \((\d+) contacts)");
  std::smatch m;
  if (std::regex_search(e.explanation, m, schedule)) {
    return fmt::format("every {}, CV {:.2f}, {} contacts", m[1].str(), e.value, m[2].str());
  }
  return fmt::format("interval CV {:.2f} (no schedule: ~1)", e.value);
}

std::string contributors_cell(const pipeline::AnomalyEvent& e) {
  std::string tops;
  for (const auto& c : e.contributors) {
    if (tops.size() > 40) break;
    tops += fmt::format("{}{} {:.0f}%", tops.empty() ? "" : ", ", c.value, 100 * c.share);
  }
  return tops.empty() ? "-" : tops;
}
}  // namespace

std::string event_value_cell(const pipeline::AnomalyEvent& e) {
  if (e.detector == "beacon") return beacon_cell(e);
  const auto feature = models::parse_feature(e.feature).value_or(models::Feature::flows);
  return fmt::format("{} ({})", pipeline::human_value(feature, e.value), pipeline::human_value(feature, e.expected));
}

void print_event_table(std::FILE* out, const std::vector<pipeline::AnomalyEvent>& events,
                       const EventTableOptions& options) {
  if (events.empty()) {
    fmt::print(out, "(no anomaly events)\n");
    return;
  }
  const Row header{"time", "", "status", "severity", "score", "entity", "feature", "value (expected)", "category"};
  std::vector<Row> rows;
  std::vector<std::string> contributors;
  bool any_warm_up = false;
  for (const auto& e : events) {
    const bool warm_up = options.warm_up_until && e.time < *options.warm_up_until;
    any_warm_up |= warm_up;
    rows.push_back({pipeline::formats::format_rfc3339(e.time * 1'000'000'000), warm_up ? "warm-up" : "",
                    pipeline::to_string(e.status), pipeline::to_string(e.severity), fmt::format("{:.1f}", e.score),
                    fmt::format("{} {}", e.entity_kind, e.entity_id), e.feature, event_value_cell(e),
                    e.category.empty() ? "-" : e.category});
    contributors.push_back(contributors_cell(e));
  }
  std::array<std::size_t, kColumns> width{};
  for (std::size_t c = 0; c < kColumns; ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  // The mark column only when some row carries it: no empty gap otherwise.
  auto print_row = [&](const Row& row, const std::string& last) {
    std::string line;
    for (std::size_t c = 0; c < kColumns; ++c) {
      if (c == 1 && !any_warm_up) continue;
      line += c == 4 ? fmt::format("{:>{}} ", row[c], width[c]) : fmt::format("{:<{}} ", row[c], width[c]);
    }
    fmt::print(out, "{}{}\n", line, last);
  };
  print_row(header, "top contributors");
  for (std::size_t i = 0; i < rows.size(); ++i) print_row(rows[i], contributors[i]);
  if (any_warm_up) {
    fmt::print(out, "warm-up: before {}, while the baselines were still learning\n",
               pipeline::formats::format_rfc3339(*options.warm_up_until * 1'000'000'000));
  }
}

}  // namespace flowlier::app
