#include "app/IngestSummary.hpp"

#include <fmt/format.h>

namespace flowlier::app {

void print_ingest_summary(std::FILE* out, std::string_view command, const pipeline::IngestStats& stats,
                          double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(stats.records) / seconds : 0.0;
  fmt::print(out, "{}: {} records from {} input(s) in {:.2f} s ({:.0f} records/s)\n", command, stats.records,
             stats.inputs, seconds, rate);
  std::string formats;
  for (const auto& [name, count] : stats.records_by_format) formats += fmt::format(" {} {}", name, count);
  if (!formats.empty()) fmt::print(out, "  by format:{}\n", formats);
  const auto rejected = stats.total_rejected();
  std::string reasons;
  for (std::size_t i = 0; i < stats.rejected.size(); ++i) {
    if (stats.rejected[i] == 0) continue;
    reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ",
                           pipeline::to_string(static_cast<pipeline::RejectReason>(i)), stats.rejected[i]);
  }
  fmt::print(out, "  rejected: {}{}\n", rejected, reasons.empty() ? "" : " (" + reasons + ")");
  fmt::print(out, "  status records: {} NODATA, {} SKIPDATA{}\n", stats.nodata, stats.skipdata,
             stats.skipdata ? " (SKIPDATA: AWS skipped records; data was lost)" : "");
  if (stats.input_errors) fmt::print(out, "  inputs with errors: {}\n", stats.input_errors);
}

}  // namespace flowlier::app
